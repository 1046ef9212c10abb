import { join } from 'node:path';
import type { Emit } from '../telemetry/events.js';
import type { CaptureTimeline } from './capture-timeline.js';
import type { DeliveryQueue } from './delivery-queue.js';
import type { DiskHealing } from './disk-healing.js';
import type { GapBook } from './gap-book.js';
import type { JournalEntry, SegmentRecord } from './journal.js';
import type { SpoolQuota } from './quota.js';
import type { SegmentIndex } from './segment-index.js';

/**
 * What the jobs of one camera's spool share (intake, losses, adoption), built by the `Spool`
 * facade: the run's identity, its in-memory parts, and the one way to write its journal.
 */
export interface SpoolParts {
  readonly root: string;
  readonly dir: string;
  readonly cameraId: string;
  readonly runId: string;
  readonly emit: Emit;
  readonly index: SegmentIndex;
  readonly delivery: DeliveryQueue;
  readonly quota: SpoolQuota;
  readonly gaps: GapBook;
  readonly timeline: CaptureTimeline;
  readonly disk: DiskHealing;
  /** Append to the journal; a failed write is healed (room made, the journal rewritten). */
  record(...entries: JournalEntry[]): Promise<void>;
}

export function pathIn(parts: Pick<SpoolParts, 'dir'>, record: SegmentRecord): string {
  return join(parts.dir, record.name);
}

/** Out of the index, and so out of delivery's reach: undefined when it was not pending. */
export function takeOut(
  parts: Pick<SpoolParts, 'index' | 'delivery'>,
  sequence: number,
): SegmentRecord | undefined {
  const record = parts.index.remove(sequence);
  if (record) parts.delivery.removed(sequence);
  return record;
}
