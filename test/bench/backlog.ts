import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEntry, SegmentRecord } from '../../src/spool/journal.js';
import { JOURNAL_FILE, segmentName, spoolDirPrefix } from '../../src/spool/naming.js';

const TS_PACKET = 188;
/** Above Linux's pid_max (2^22): the dead run's pid can belong to nobody. */
const DEAD_PID = 4_194_305;

/** Segment files written once per suite and hard-linked into every backlog (no rewriting 600 MB each run). */
export interface SegmentPool {
  readonly dir: string;
  readonly files: readonly string[];
  readonly bytes: number;
}

/** `count` files of `bytes` each (whole TS packets: sync byte, then noise, like encoded video). */
export function makeSegmentPool(count: number, bytes: number): SegmentPool {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pool-'));
  const size = bytes - (bytes % TS_PACKET);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const data = randomBytes(size);
    for (let at = 0; at < size; at += TS_PACKET) data[at] = 0x47;
    const file = join(dir, `pool-${i}.ts`);
    writeFileSync(file, data);
    files.push(file);
  }
  return { dir, files, bytes: size };
}

/**
 * Leave a backlog the way a killed run of `cameraId` leaves it: a spool dir named for the
 * camera with the segment files and the append-only journal listing them, its owner dead. The
 * next relay of that camera on `spoolRoot` adopts and uploads it first, oldest first.
 */
export function plantBacklog(
  spoolRoot: string,
  cameraId: string,
  pool: SegmentPool,
  count = pool.files.length,
) {
  const runId = randomBytes(6).toString('hex');
  const dir = join(spoolRoot, `${spoolDirPrefix(cameraId)}-${DEAD_PID}-${runId}`);
  mkdirSync(dir, { mode: 0o700 });
  const startMs = Date.now() - count * 2000;
  const segments: SegmentRecord[] = [];
  for (let s = 0; s < count; s++) {
    const name = segmentName(s);
    linkSync(pool.files[s % pool.files.length]!, join(dir, name));
    segments.push({
      name,
      sequence: s,
      start: new Date(startMs + s * 2000).toISOString(),
      durationS: 2,
      bytes: pool.bytes,
      idempotencyKey: `${cameraId}:${runId}:${s}`,
    });
  }
  const head: JournalEntry = {
    op: 'head',
    state: {
      version: 2,
      cameraId,
      runId,
      owner: { pid: DEAD_PID, host: hostname(), startedAt: new Date(startMs).toISOString() },
      nextSequence: count,
      segments,
      gaps: [],
    },
  };
  writeFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify(head)}\n`, { mode: 0o600 });
  return { dir, count, bytes: count * pool.bytes };
}

export function newSpoolRoot(): string {
  return mkdtempSync(join(tmpdir(), 'bench-spool-'));
}
