import type { SegmentRecord } from './journal.js';

/**
 * The pending segments of one spool, in arrival order, with their byte total and the next free
 * sequence. No I/O: the journal on disk is the truth; this is its in-memory index.
 */
export class SegmentIndex {
  readonly #segments = new Map<number, SegmentRecord>();
  #bytes = 0;
  #nextSequence: number;

  constructor(nextSequence: number) {
    this.#nextSequence = nextSequence;
  }

  /** First sequence not used by any segment (or loss) this camera knows of. */
  get nextSequence(): number {
    return this.#nextSequence;
  }
  get bytes(): number {
    return this.#bytes;
  }
  get size(): number {
    return this.#segments.size;
  }
  /** The oldest pending segment (the index keeps arrival order). */
  get oldest(): SegmentRecord | undefined {
    return this.#segments.values().next().value;
  }

  get(sequence: number): SegmentRecord | undefined {
    return this.#segments.get(sequence);
  }

  has(sequence: number): boolean {
    return this.#segments.has(sequence);
  }

  records(): IterableIterator<SegmentRecord> {
    return this.#segments.values();
  }

  /** Raise the next sequence past `next` (names used elsewhere, a lost stretch of capture). */
  reserveBelow(next: number): void {
    this.#nextSequence = Math.max(this.#nextSequence, next);
  }

  add(record: SegmentRecord): void {
    if (!this.#segments.has(record.sequence)) this.#bytes += record.bytes;
    this.#segments.set(record.sequence, record);
    this.reserveBelow(record.sequence + 1);
  }

  /** Take a segment out; undefined when it is not pending. */
  remove(sequence: number): SegmentRecord | undefined {
    const record = this.#segments.get(sequence);
    if (record) {
      this.#segments.delete(sequence);
      this.#bytes -= record.bytes;
    }
    return record;
  }
}
