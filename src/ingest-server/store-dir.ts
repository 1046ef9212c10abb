import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { currentUser, resolveOwnDir } from '../config/spool-dir.js';
import { RelayError } from '../errors.js';

/**
 * The out dir and what is in it are never reached through a symlink: whoever planted one (in a
 * shared dir, or before the dir became ours) would have the ingest, often root, write a
 * client-chosen camera.json, a ledger or a segment into a place of their choosing.
 */
const OUT_ADVICE = 'give the ingest a directory of its own, e.g. /var/lib/trio-ingest';

/** `--out` made ready like the relay's spool dir: ours, 0700 when created, below safe ancestors. */
export function prepareOutDir(outDir: string): void {
  resolveOwnDir(outDir, `ingest-server: --out ${outDir}`, currentUser(), OUT_ADVICE);
}

/** Something in the store is not what the ingest made (a symlink, another owner): logged, a generic 500. */
export class UnsafeStoreError extends RelayError {
  constructor(path: string, why: string) {
    super('ERR_INGEST_STORE_UNSAFE', `${path} is not a directory of ours (${why}): refusing to store there`);
  }
}

/**
 * `<out>/<camera>`, created 0700 if missing, and then checked to be a real directory of ours:
 * mkdir never follows a symlink at the last component, and lstat tells one apart.
 */
export async function cameraDir(outDir: string, camera: string): Promise<string> {
  const dir = join(outDir, camera);
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const info = await lstat(dir);
  if (info.isSymbolicLink()) throw new UnsafeStoreError(dir, 'a symbolic link');
  if (!info.isDirectory()) throw new UnsafeStoreError(dir, 'not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw new UnsafeStoreError(dir, `owned by uid ${info.uid}`);
  return dir;
}

const NOFOLLOW = constants.O_NOFOLLOW;

/** Append to a file of the store (created 0600); fails with ELOOP on a symlink. */
export async function appendNoFollow(path: string, text: string): Promise<void> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW,
    0o600,
  );
  try {
    await handle.appendFile(text, 'utf8');
  } finally {
    await handle.close();
  }
}

/** Open flags for reading a segment to serve it: never through a symlink. */
export const READ_NOFOLLOW = constants.O_RDONLY | NOFOLLOW;
