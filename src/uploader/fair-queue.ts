import type { Queue, QueueAddOptions } from 'p-queue';
import type { UploadJob, UploadScheduler } from './upload-scheduler.js';

/** p-queue's task: what its `add` wraps our function in. */
type RunFunction = () => Promise<unknown>;

/**
 * p-queue's `queueClass` for the upload pool. Its tasks are turns, not segments: each runs
 * whichever segment the scheduler hands out when p-queue dequeues it, and the segments themselves
 * stay in their spools (the scheduler asks them). p-queue calls `dequeue()` whenever `size` > 0
 * and a slot is free, and runs what it returns at once, so `size` counts only segments that may
 * go now: while every camera with work is at its share, it is 0 and p-queue waits for a task to
 * end (or to be told to look again) before asking again.
 */
export class FairQueue implements Queue<RunFunction, QueueAddOptions> {
  readonly #scheduler: UploadScheduler;
  /** p-queue's waiting tasks: interchangeable turns. */
  readonly #turns: RunFunction[] = [];
  /** The job handed out with the turn p-queue is starting (it runs the turn at once). */
  #handedOut: UploadJob | undefined;

  constructor(scheduler: UploadScheduler) {
    this.#scheduler = scheduler;
  }

  get size(): number {
    return Math.min(this.#turns.length, this.#scheduler.ready());
  }

  enqueue(run: RunFunction): void {
    this.#turns.push(run);
  }

  dequeue(): RunFunction | undefined {
    if (this.#turns.length === 0) return undefined;
    const job = this.#scheduler.next();
    if (!job) return undefined;
    this.#handedOut = job;
    return this.#turns.shift();
  }

  /** The job the starting turn was handed out with. */
  take(): UploadJob | undefined {
    const job = this.#handedOut;
    this.#handedOut = undefined;
    return job;
  }

  filter(): RunFunction[] {
    return this.#turns.slice(0, this.size);
  }

  /** The order is the scheduler's: p-queue's priorities are not used. */
  setPriority(): void {}
}
