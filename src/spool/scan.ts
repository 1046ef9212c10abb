import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type JournalData, journalPath, readJournal } from './journal.js';
import { isSpoolDirName } from './naming.js';
import { ownerAlive } from './owner.js';

export interface SpoolDirInfo {
  readonly path: string;
  readonly journal: JournalData | undefined;
  /** Since the journal (or the dir, without one) last changed. */
  readonly ageMs: number;
  readonly alive: boolean;
}

export interface ScanResult {
  readonly dirs: SpoolDirInfo[];
  /** Entries with our prefix we will not touch, and why (symlink, foreign uid…). */
  readonly skipped: { readonly path: string; readonly why: string }[];
}

/**
 * List the spool dirs under `root` that this user may manage: our prefix, a real directory
 * (lstat, so a symlink is never followed), owned by our uid.
 */
export async function scanSpoolRoot(
  root: string,
  staleAfterMs: number,
  now = Date.now(),
): Promise<ScanResult> {
  const result: ScanResult = { dirs: [], skipped: [] };
  const uid = process.getuid?.();
  for (const name of await readdir(root)) {
    if (!isSpoolDirName(name)) continue;
    const path = join(root, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isSymbolicLink()) {
      result.skipped.push({ path, why: 'symlink' });
      continue;
    }
    if (!info.isDirectory()) continue;
    if (uid !== undefined && info.uid !== uid) {
      result.skipped.push({ path, why: `owned by uid ${info.uid}` });
      continue;
    }
    const journal = await readJournal(path);
    const journalTime = journal ? (await stat(journalPath(path)).catch(() => undefined))?.mtimeMs : undefined;
    const ageMs = now - Math.max(info.mtimeMs, journalTime ?? 0);
    const alive = journal ? ownerAlive(journal.owner, ageMs < staleAfterMs) : false;
    result.dirs.push({ path, journal, ageMs, alive });
  }
  return result;
}
