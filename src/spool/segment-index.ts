import type { SegmentRecord } from './journal.js';

/**
 * The pending segments of one spool, in arrival order and in sequence order, with their byte
 * total and the next free sequence. No I/O: the journal on disk is the truth; this is its
 * in-memory index.
 */
export class SegmentIndex {
  readonly #segments = new Map<number, SegmentRecord>();
  /** The pending sequences, ascending: the order delivery asks in (adoption may add older ones). */
  readonly #ascending: number[] = [];
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

  /** In arrival order. */
  records(): IterableIterator<SegmentRecord> {
    return this.#segments.values();
  }

  /** Pending sequences, lowest first (`newestFirst`: highest first). */
  *sequences(newestFirst = false): Generator<number> {
    const list = this.#ascending;
    if (newestFirst) for (let i = list.length - 1; i >= 0; i--) yield list[i]!;
    else yield* list;
  }

  /** Raise the next sequence past `next` (names used elsewhere, a lost stretch of capture). */
  reserveBelow(next: number): void {
    this.#nextSequence = Math.max(this.#nextSequence, next);
  }

  add(record: SegmentRecord): void {
    if (!this.#segments.has(record.sequence)) {
      this.#bytes += record.bytes;
      this.#ascending.splice(this.#place(record.sequence), 0, record.sequence);
    }
    this.#segments.set(record.sequence, record);
    this.reserveBelow(record.sequence + 1);
  }

  /** Take a segment out; undefined when it is not pending. */
  remove(sequence: number): SegmentRecord | undefined {
    const record = this.#segments.get(sequence);
    if (record) {
      this.#segments.delete(sequence);
      this.#bytes -= record.bytes;
      this.#ascending.splice(this.#place(sequence), 1);
    }
    return record;
  }

  /** Where `sequence` is, or goes, in the ascending list. */
  #place(sequence: number): number {
    const list = this.#ascending;
    // Capture appends: the common case is the end of the list.
    if (list.length === 0 || list.at(-1)! < sequence) return list.length;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (list[mid]! < sequence) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
