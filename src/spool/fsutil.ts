import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Files the relay keeps are opened without following a symlink at the last component: in a
 * directory someone else could write to, a planted link must not redirect our writes or feed
 * us their data (open fails with ELOOP instead).
 */
const NOFOLLOW = constants.O_NOFOLLOW;

/** Flush a file's data to the device, so a power cut cannot leave it shorter than we believe. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | NOFOLLOW);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flush a directory entry (after create/rename) so the name survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch {
    // Some filesystems refuse fsync on directories; the data fsync above still holds.
  }
}

/**
 * Replace `path` atomically: write a new sibling (never an existing file or a link), fsync it,
 * rename it over, fsync the directory. The sibling is removed whatever fails, ENOSPC included.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await fsyncDir(dirname(path));
}

/** Read a small file we own; undefined when missing, unreadable or a symlink. */
export async function readNoFollow(path: string): Promise<string | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | NOFOLLOW);
    return await readFile(handle, 'utf8');
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => {});
  }
}
