import type { LossReason } from '../types.js';
import type { DeliveryQueue } from './delivery-queue.js';
import type { SegmentIndex } from './segment-index.js';
import type { BoundedSpool, SharedSpoolBound } from './shared-bound.js';

/** Drops one pending segment, loudly; the quota decides which, the spool how. */
export type EvictOldest = (reason: LossReason, keep?: number) => Promise<boolean>;

/**
 * --max-spool-mb for one camera (pending segments and its rejected/ folder together) and its
 * share of --max-total-spool-mb: past either, the oldest pending segments are evicted.
 */
export class SpoolQuota {
  readonly maxBytes: number;
  /** What the camera's rejected/ folder holds, counted inside the bound. */
  rejectedBytes = 0;
  readonly #index: SegmentIndex;
  readonly #shared: SharedSpoolBound | undefined;
  #leaveShared: (() => void) | undefined;

  constructor(maxBytes: number, index: SegmentIndex, shared: SharedSpoolBound | undefined) {
    this.maxBytes = maxBytes;
    this.#index = index;
    this.#shared = shared;
  }

  /** Count `spool` in the shared bound until `leave`. */
  join(spool: BoundedSpool): void {
    this.#leaveShared = this.#shared?.join(spool);
  }

  leave(): void {
    this.#leaveShared?.();
    this.#leaveShared = undefined;
  }

  /** Bytes counted against --max-spool-mb: pending segments and the rejected/ folder. */
  get usedBytes(): number {
    return this.#index.bytes + this.rejectedBytes;
  }

  get exceeded(): boolean {
    return this.usedBytes > this.maxBytes;
  }

  /** Evict until this camera fits its bound, then the process its shared one; `newest` stays. */
  async enforce(spool: BoundedSpool, evictOldest: EvictOldest, newest?: number): Promise<void> {
    while (this.exceeded) {
      if (!(await evictOldest('evicted', newest))) break;
    }
    await this.#shared?.enforce(spool, newest);
  }
}

/** The oldest pending segment that may be evicted: not being uploaded, not the one kept. */
export function evictionCandidate(
  index: SegmentIndex,
  delivery: DeliveryQueue,
  keep: number | undefined,
): number | undefined {
  for (const record of index.records()) {
    if (!delivery.sending(record.sequence) && record.sequence !== keep) return record.sequence;
  }
  return undefined;
}
