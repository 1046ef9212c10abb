import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import tmp from 'tmp';
import { SpoolError } from '../errors.js';
import { round3 } from '../seconds.js';
import { fsyncPath } from './fsutil.js';
import type { SegmentRecord } from './journal.js';
import { idempotencyKey, spoolDirPrefix } from './naming.js';
import type { ClosedSegment } from './spool-roles.js';

/** Create a run's dir: 0700, named after the camera so it is recognised even without a journal. */
export function createRunDir(root: string, cameraId: string): string {
  try {
    return tmp.dirSync({ tmpdir: root, prefix: spoolDirPrefix(cameraId), mode: 0o700, keep: true }).name;
  } catch (error) {
    throw new SpoolError(`cannot create a spool dir in ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The record of a segment ffmpeg closed in `dir`: fsync'd first (it only counts once durable),
 * then measured. Rejects when the file is not there (ffmpeg listed a name it never wrote).
 */
export async function durableRecord(
  dir: string,
  segment: ClosedSegment,
  sequence: number,
  key: { readonly cameraId: string; readonly runId: string },
): Promise<SegmentRecord> {
  const path = join(dir, segment.name);
  await fsyncPath(path);
  const bytes = (await stat(path)).size;
  return {
    name: segment.name,
    sequence,
    start: segment.start.toISOString(),
    durationS: round3(segment.durationS),
    bytes,
    idempotencyKey: idempotencyKey(key.cameraId, key.runId, sequence),
    ...(segment.clockJumpS === undefined ? {} : { clockJumpS: segment.clockJumpS }),
  };
}
