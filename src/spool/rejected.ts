import { lstat, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { redactReply } from '../redact.js';
import type { Emit } from '../telemetry/events.js';
import { writeFileAtomic } from './fsutil.js';
import { REJECTED_DIR } from './naming.js';

/** A camera's rejected/ folder as a whole, so it can be counted inside --max-spool-mb. */
export interface RejectedUsage {
  readonly bytes: number;
  readonly files: number;
}

function rejectedDir(root: string, camera: string): string {
  return join(root, REJECTED_DIR, camera);
}

/**
 * Move a segment the ingest refused (a 4xx other than 401/403) into
 * `<root>/trio-relay-rejected/<camera>/`, beside a `.json` with the status and the first bytes of
 * the answer (the token, URL passwords and credential-looking fields masked: an ingest may echo
 * the key), for an operator to inspect. The folder
 * is then pruned oldest first to `maxBytes`.
 */
export async function moveToRejected(
  root: string,
  camera: string,
  file: string,
  name: string,
  info: { status: number; body: string; sequence: number },
  maxBytes: number,
): Promise<RejectedUsage> {
  const dir = await ensureDir(root, camera);
  const target = join(dir, name);
  await rename(file, target);
  const note = { ts: new Date().toISOString(), ...info, body: redactReply(info.body) };
  await writeFileAtomic(`${target}.json`, `${JSON.stringify(note)}\n`);
  return prune(dir, maxBytes);
}

/**
 * Keep a refused segment in rejected/ (see moveToRejected); when that fails it is said and the
 * file deleted. Returns the folder's usage, undefined when unknown.
 */
export async function keepRejected(
  segment: { readonly root: string; readonly cameraId: string; readonly path: string; readonly name: string },
  info: { status: number; body: string; sequence: number },
  maxBytes: number,
  emit: Emit,
): Promise<RejectedUsage | undefined> {
  const { root, cameraId, path, name } = segment;
  try {
    return await moveToRejected(root, cameraId, path, name, info, maxBytes);
  } catch (error) {
    emit({ type: 'log', level: 'warn', message: `could not keep rejected ${name}: ${String(error)}` });
    await unlink(path).catch(() => {});
    return undefined;
  }
}

/** What a camera's rejected/ folder holds now (nothing when it does not exist). */
export async function rejectedUsage(root: string, camera: string): Promise<RejectedUsage> {
  return prune(rejectedDir(root, camera), Number.POSITIVE_INFINITY).catch(() => ({ bytes: 0, files: 0 }));
}

/** Create the folder 0700, and refuse one that is a symlink (it would take our files elsewhere). */
async function ensureDir(root: string, camera: string): Promise<string> {
  const top = join(root, REJECTED_DIR);
  const dir = rejectedDir(root, camera);
  for (const path of [top, dir]) {
    await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    if (!(await lstat(path)).isDirectory()) throw new Error(`${path} is not a directory`);
  }
  return dir;
}

/** Delete the oldest segments (with their notes) until the folder fits in `maxBytes`. */
async function prune(dir: string, maxBytes: number): Promise<RejectedUsage> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.ts'));
  const files = await Promise.all(
    names.map(async (n) => {
      const info = await stat(join(dir, n)).catch(() => undefined);
      return { n, t: info?.mtimeMs ?? 0, bytes: info?.size ?? 0 };
    }),
  );
  files.sort((a, b) => a.t - b.t);
  let bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  let kept = files.length;
  for (const f of files) {
    if (bytes <= maxBytes) break;
    await rm(join(dir, f.n), { force: true });
    await rm(join(dir, `${f.n}.json`), { force: true });
    bytes -= f.bytes;
    kept--;
  }
  return { bytes, files: kept };
}
