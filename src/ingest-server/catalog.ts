import type { LedgerEntry } from './ledger.js';

/**
 * Keys remembered for de-duplication, all cameras together; past it the oldest are forgotten
 * (memory stays bounded): a retry of a segment that old is stored a second time, never lost.
 */
export const KEYS_KEPT = 100_000;

/**
 * What the out dir already holds, per camera: the accepted Idempotency-Keys (for
 * de-duplication) and how many segments arrived (to name those without a sequence).
 * Rebuilt from the ledgers on start, so a restarted ingest still de-duplicates.
 */
export class Catalog {
  readonly #keys = new Set<string>();
  readonly #arrivals = new Map<string, number>();
  readonly #tails = new Map<string, Promise<unknown>>();

  static fromLedger(rows: readonly LedgerEntry[]): Catalog {
    const catalog = new Catalog();
    for (const row of rows) {
      if (row.event === 'segment' && row.status === 'accepted') catalog.add(row);
    }
    return catalog;
  }

  /** Whether this camera already has a segment accepted under `key`. */
  has(camera: string, key: string | null): boolean {
    return key !== null && this.#keys.has(scoped(camera, key));
  }

  add(row: LedgerEntry): void {
    if (row.idempotency_key !== null) {
      this.#keys.add(scoped(row.camera, row.idempotency_key));
      // A Set iterates in insertion order: its first key is the oldest.
      if (this.#keys.size > KEYS_KEPT) this.#keys.delete(this.#keys.values().next().value!);
    }
    this.#arrivals.set(row.camera, this.arrivals(row.camera) + 1);
  }

  arrivals(camera: string): number {
    return this.#arrivals.get(camera) ?? 0;
  }

  /**
   * Run `task` after every earlier task of this camera has settled. The ingest decides and
   * records a segment in here, so two retries of one key can never both be accepted, and the
   * ledger's rows are in the order the answers were decided.
   */
  exclusive<T>(camera: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(camera) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => {});
    this.#tails.set(camera, tail);
    void tail.then(() => {
      if (this.#tails.get(camera) === tail) this.#tails.delete(camera);
    });
    return run;
  }
}

// Keys are the relay's, per camera: the same key from two cameras names two segments.
function scoped(camera: string, key: string): string {
  return `${camera}\n${key}`;
}
