import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { appendDurable } from './fsutil.js';
import { type GapRecord, segmentEnd } from './journal.js';
import { LOSS_LEDGER_FILE } from './naming.js';

/** Past this size the ledger is rotated to `.1` (the previous `.1` to `.2`, and so on). */
export const LEDGER_ROTATE_BYTES = 4 * 1024 * 1024;
/** Rotated ledgers kept beside the current one: at most (1 + this) × the size above on disk. */
export const LEDGER_KEEP = 3;

/**
 * Append one loss to the spool root's JSONL ledger, durably (fsync before it counts): the
 * human-readable record of every drop. Rotated by size so years of losses stay bounded.
 */
export async function recordLoss(root: string, camera: string, gap: GapRecord): Promise<void> {
  const path = join(root, LOSS_LEDGER_FILE);
  const line = { ts: new Date().toISOString(), camera, ...gap };
  const size = await appendDurable(path, `${JSON.stringify(line)}\n`);
  if (size > LEDGER_ROTATE_BYTES) await rotate(path);
}

async function rotate(path: string): Promise<void> {
  for (let i = LEDGER_KEEP - 1; i >= 1; i--) {
    await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
  }
  await rename(path, `${path}.1`);
}

/** A gap covering one segment, or a stretch of capture, with its reason. */
export function gapOf(
  segment: {
    readonly sequence: number;
    readonly start: string;
    readonly durationS: number;
    readonly bytes: number;
  },
  reason: GapRecord['reason'],
): GapRecord {
  return {
    seqFrom: segment.sequence,
    seqTo: segment.sequence,
    start: segment.start,
    end: segmentEnd(segment),
    reason,
    bytes: segment.bytes,
  };
}

/** Gap header value: `seq=12-14; start=…; end=…; reason=evicted`, several joined by ", ". */
export function formatGapHeader(gaps: readonly GapRecord[]): string {
  return gaps
    .map((g) => `seq=${g.seqFrom}-${g.seqTo}; start=${g.start}; end=${g.end}; reason=${g.reason}`)
    .join(', ');
}
