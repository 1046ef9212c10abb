import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type JournalData, journalPath, readJournal } from './journal.js';
import { cameraLockHeld } from './lock.js';
import { isSpoolDirName, LEGACY_JOURNAL_FILE, spoolDirCamera } from './naming.js';
import { ownerAlive } from './owner.js';

export interface SpoolDirInfo {
  readonly path: string;
  readonly journal: JournalData | undefined;
  /** Whose dir it is: from the journal, else from the dir's name; undefined when neither says. */
  readonly cameraId: string | undefined;
  /** Since the journal (or the dir, without one) last changed. */
  readonly ageMs: number;
  /** Named by an earlier release, which took no lock: only its journal's owner tells if it lives. */
  readonly legacy: boolean;
  readonly alive: boolean;
}

export interface ScanResult {
  readonly dirs: SpoolDirInfo[];
  /** Entries with our prefix we will not touch, and why (symlink, foreign uid…). */
  readonly skipped: { readonly path: string; readonly why: string }[];
}

/**
 * List the spool dirs under `root` that this user may manage: our prefix, a real directory
 * (lstat, so a symlink is never followed), owned by our uid. A dir is alive while its camera's
 * lock is held (the kernel's word, good across containers and pid namespaces); dirs of earlier
 * releases, which took no lock, fall back to the journal's owner (pid, host, start time). The
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
    const cameraId = journal?.cameraId ?? spoolDirCamera(name);
    const journalTime = Math.max(
      ...(await Promise.all(
        [journalPath(path), join(path, LEGACY_JOURNAL_FILE)].map(
          async (p) => (await stat(p).catch(() => undefined))?.mtimeMs ?? 0,
        ),
      )),
    );
    const ageMs = now - Math.max(info.mtimeMs, journalTime);
    const legacy = spoolDirCamera(name) === undefined;
    const locked = legacy || cameraId === undefined ? undefined : await cameraLockHeld(root, cameraId);
    const alive = locked ?? (journal ? ownerAlive(journal.owner, ageMs < staleAfterMs) : false);
    result.dirs.push({ path, journal, cameraId, ageMs, legacy, alive });
  }
  return result;
}
