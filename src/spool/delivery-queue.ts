import type { SegmentIndex } from './segment-index.js';

/** Told when the segments waiting for delivery change: `closed` when capture just closed one. */
export type DeliveryListener = (closed?: number) => void;

/**
 * The spool's pending segments as delivery sees them, asked and never copied: which are waiting
 * (pending, not handed out), in sequence order, and which are in flight (single flight, and never
 * evicted under their request). No I/O. A segment taken out of the index (delivered, rejected,
 * evicted) is simply no longer here: nothing stale is ever handed out.
 */
export class DeliveryQueue {
  readonly #index: SegmentIndex;
  /** Handed out to delivery (sent, or waiting out a retry): not offered again until given back. */
  readonly #out = new Set<number>();
  /** In the index but not settled yet (its journal line or file is on its way): not offered. */
  readonly #held = new Set<number>();
  /** A request is sending it. */
  readonly #sending = new Set<number>();
  readonly #listeners = new Set<DeliveryListener>();

  constructor(index: SegmentIndex) {
    this.#index = index;
  }

  /** Pending segments that may be handed out. */
  get waitingCount(): number {
    return this.#index.size - this.#out.size - this.#held.size;
  }

  oldestWaiting(): number | undefined {
    return this.#firstWaiting(false);
  }

  newestWaiting(): number | undefined {
    return this.#firstWaiting(true);
  }

  /** Handed out: not offered again until given back (or gone). */
  handOut(sequence: number): void {
    if (this.#index.has(sequence)) this.#out.add(sequence);
  }

  /** Back from a retry wait: offered again at its place, if still pending. */
  giveBack(sequence: number): void {
    this.#out.delete(sequence);
  }

  /** Single flight: false when the segment is not pending or another request has it. */
  claim(sequence: number): boolean {
    if (!this.#index.has(sequence) || this.#sending.has(sequence)) return false;
    this.#sending.add(sequence);
    return true;
  }

  release(sequence: number): void {
    this.#sending.delete(sequence);
  }

  sending(sequence: number): boolean {
    return this.#sending.has(sequence);
  }

  /** The spool is adding `sequence` to its index: not offered until `offer`. */
  hold(sequence: number): void {
    this.#held.add(sequence);
  }

  /** Settled in the spool: delivery may take it now. `closed`: capture closed it in this run. */
  offer(sequence: number, closed: boolean): void {
    this.#held.delete(sequence);
    if (this.#index.has(sequence)) this.#tell(closed ? sequence : undefined);
  }

  /** The spool took it out of its index: forget every mark of it. */
  removed(sequence: number): void {
    this.#held.delete(sequence);
    this.#out.delete(sequence);
    this.#sending.delete(sequence);
    this.#tell(undefined);
  }

  /** Be told of changes until the returned function is called. */
  listen(listener: DeliveryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #tell(closed: number | undefined): void {
    for (const listener of this.#listeners) listener(closed);
  }

  #firstWaiting(newestFirst: boolean): number | undefined {
    for (const sequence of this.#index.sequences(newestFirst)) {
      if (!this.#out.has(sequence) && !this.#held.has(sequence)) return sequence;
    }
    return undefined;
  }
}
