import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REJECTED_DIR } from './naming.js';

/** At most this many rejected segments are kept per camera; older ones are deleted first. */
export const MAX_REJECTED_FILES = 100;

/**
 * Move a segment the ingest refused (a 4xx other than 401/403) into `<root>/trio-relay-rejected/<camera>/`,
 * beside a `.json` with the status and the first bytes of the answer, for an operator to inspect.
 */
export async function moveToRejected(
  root: string,
  camera: string,
  file: string,
  name: string,
  info: { status: number; body: string; sequence: number },
): Promise<string> {
  const dir = join(root, REJECTED_DIR, camera);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, name);
  await rename(file, target);
  await writeFile(`${target}.json`, `${JSON.stringify({ ts: new Date().toISOString(), ...info })}\n`, {
    mode: 0o600,
  });
  await prune(dir);
  return target;
}

async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.ts'));
  if (names.length <= MAX_REJECTED_FILES) return;
  const withTimes = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })));
  withTimes.sort((a, b) => a.t - b.t);
  for (const { n } of withTimes.slice(0, withTimes.length - MAX_REJECTED_FILES)) {
    await rm(join(dir, n), { force: true });
    await rm(join(dir, `${n}.json`), { force: true });
  }
}
