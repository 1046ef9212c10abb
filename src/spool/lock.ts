import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SpoolBusyError } from '../errors.js';
import { readNoFollow } from './fsutil.js';
import { cameraLockFile } from './naming.js';

type TryLock = (fd: number) => boolean;

/**
 * The kernel's open-file-description lock (fcntl F_OFD_SETLK on Linux) through a small native
 * package: the kernel drops it the moment its holder dies, SIGKILL included, and it holds across
 * containers sharing a volume, where pids and hostnames say nothing. Loaded lazily: without a
 * build for this platform the relay still runs, relying on the journal's owner instead.
 */
function loadTryLock(): TryLock | undefined {
  try {
    const require = createRequire(import.meta.url);
    const ext = require('fs-native-extensions') as typeof import('fs-native-extensions');
    return (fd) => ext.tryLock(fd);
  } catch {
    return undefined;
  }
}
let tryLockFn: TryLock | undefined | null = null;
function kernelTryLock(): TryLock | undefined {
  if (tryLockFn === null) tryLockFn = loadTryLock();
  return tryLockFn;
}

/** Who holds a camera's lock, as written into the lock file by the holder. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** One relay per camera and spool root: held from start to exit, released by the kernel on death. */
export class CameraLock {
  readonly #handle: FileHandle | undefined;
  /** False where the platform has no lock: only the journal's owner tells a live relay then. */
  readonly enforced: boolean;

  private constructor(handle: FileHandle | undefined) {
    this.#handle = handle;
    this.enforced = handle !== undefined;
  }

  /** Take the camera's lock, or throw SpoolBusyError (exit 2) naming the relay that holds it. */
  static async acquire(root: string, cameraId: string): Promise<CameraLock> {
    const tryLock = kernelTryLock();
    if (!tryLock) return new CameraLock(undefined);
    const path = join(root, cameraLockFile(cameraId));
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    if (!tryLock(handle.fd)) {
      await handle.close();
      throw new SpoolBusyError(cameraId, root, await readHolder(path));
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    await handle.truncate(0);
    await handle.write(`${JSON.stringify(holder)}\n`, 0);
    return new CameraLock(handle);
  }

  async release(): Promise<void> {
    await this.#handle?.close().catch(() => {});
  }
}

/**
 * Whether a live relay holds this camera's lock: true or false where the kernel can tell,
 * undefined where it cannot (no lock file: a relay of an earlier release; no lock support).
 */
export async function cameraLockHeld(root: string, cameraId: string): Promise<boolean | undefined> {
  const tryLock = kernelTryLock();
  if (!tryLock) return undefined;
  let handle: FileHandle;
  try {
    // O_RDWR: an exclusive lock needs a writable descriptor. Never created here.
    handle = await open(join(root, cameraLockFile(cameraId)), constants.O_RDWR | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    // Granted means nobody holds it; closing our descriptor releases it again at once.
    return !tryLock(handle.fd);
  } finally {
    await handle.close();
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse((await readNoFollow(path)) ?? '') as Partial<LockHolder>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.since === 'string'
      ? (value as LockHolder)
      : undefined;
  } catch {
    return undefined;
  }
}
