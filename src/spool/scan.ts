import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type JournalData, journalPath, readJournal } from './journal.js';
import { cameraLockHeld } from './lock.js';
import { spoolDirCamera } from './naming.js';
import { ownerAlive } from './owner.js';

export interface SpoolDirInfo {
  readonly path: string;
  readonly journal: JournalData | undefined;
  /** Whose dir it is: from the journal, else from the dir's name. */
  readonly cameraId: string;
  /** Since the journal (or the dir, without one) last changed. */
  readonly ageMs: number;
  /** A relay runs it: its camera's lock is held (without a kernel lock, its journal's owner lives). */
  readonly alive: boolean;
}

export interface ScanResult {
  readonly dirs: SpoolDirInfo[];
  /** Entries with our prefix we will not touch, and why (symlink, foreign uid…). */
  readonly skipped: { readonly path: string; readonly why: string }[];
}

/**
 * List the spool dirs under `root` that this user may manage: named after a camera with our
 * prefix, a real directory (lstat, so a symlink is never followed), owned by our uid. A dir is
 * alive while its camera's lock is held (the kernel's word, good across containers and pid
 * namespaces); where the lock cannot tell, by the journal's owner (pid, host, start time). The
 * caller's own camera always looks alive by its lock, since the caller holds it.
 */
export async function scanSpoolRoot(
  root: string,
  staleAfterMs: number,
  now = Date.now(),
): Promise<ScanResult> {
  const result: ScanResult = { dirs: [], skipped: [] };
  const uid = process.getuid?.();
  for (const name of await readdir(root)) {
    const named = spoolDirCamera(name);
    if (named === undefined) continue;
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
    const cameraId = journal?.cameraId ?? named;
    const journalTime = (await stat(journalPath(path)).catch(() => undefined))?.mtimeMs ?? 0;
    const ageMs = now - Math.max(info.mtimeMs, journalTime);
    const locked = await cameraLockHeld(root, cameraId);
    const alive = locked ?? (journal ? ownerAlive(journal.owner, ageMs < staleAfterMs) : false);
    result.dirs.push({ path, journal, cameraId, ageMs, alive });
  }
  return result;
}
