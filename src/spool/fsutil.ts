import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flush a file's data to the device, so a power cut cannot leave it shorter than we believe. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
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

/** Replace `path` atomically: write a sibling, fsync it, rename over, fsync the directory. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await fsyncDir(dirname(path));
}
