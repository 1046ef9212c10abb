import type { LossReason } from '../types.js';

/** What the shared bound needs of each camera's spool. */
export interface BoundedSpool {
  readonly usedBytes: number;
  readonly oldestPendingStartMs: number | undefined;
  evictOldest(reason: LossReason, keep?: number): Promise<boolean>;
}

/**
 * --max-total-spool-mb: one bound over the spools of every camera of the process, on top of each
 * camera's own --max-spool-mb. Past it, the oldest pending segment of all cameras is evicted
 * (loudly, through that camera's spool: ledger, gap header, metric), so the camera with the
 * longest backlog pays first and a quiet camera keeps its recent video.
 */
export class SharedSpoolBound {
  #maxBytes: number;
  readonly #spools = new Set<BoundedSpool>();
  /** One eviction pass at a time: concurrent ones would each evict for the same excess. */
  #pass: Promise<void> = Promise.resolve();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** A reload may change the bound; it is enforced at the next segment. */
  set maxBytes(bytes: number) {
    this.#maxBytes = bytes;
  }

  get usedBytes(): number {
    let used = 0;
    for (const spool of this.#spools) used += spool.usedBytes;
    return used;
  }

  /** Count this spool in until the returned function is called. */
  join(spool: BoundedSpool): () => void {
    this.#spools.add(spool);
    return () => this.#spools.delete(spool);
  }

  /** Evict the oldest segments of all cameras until the total fits; `keep` is `spool`'s newest. */
  enforce(spool: BoundedSpool, keep?: number): Promise<void> {
    this.#pass = this.#pass.then(() => this.#evictUntilFits(spool, keep));
    return this.#pass;
  }

  async #evictUntilFits(caller: BoundedSpool, keep?: number): Promise<void> {
    while (this.usedBytes > this.#maxBytes) {
      const byAge = [...this.#spools]
        .filter((s) => s.oldestPendingStartMs !== undefined)
        .sort((a, b) => a.oldestPendingStartMs! - b.oldestPendingStartMs!);
      let evicted = false;
      for (const spool of byAge) {
        if (await spool.evictOldest('evicted', spool === caller ? keep : undefined)) {
          evicted = true;
          break;
        }
      }
      // Everything left is in flight (or the segment just kept): the next segment tries again.
      if (!evicted) return;
    }
  }
}
