import type { Queue, QueueAddOptions } from 'p-queue';
import type { UploadJob, UploadScheduler } from './upload-scheduler.js';

/** p-queue's task: what its `add` wraps our function in. */
type RunFunction = () => Promise<unknown>;

/** What the pool adds to p-queue with each segment's task. */
export type SegmentTaskOptions = QueueAddOptions & {
  readonly camera: string;
  readonly sequence: number;
  /** Capture just closed it. */
  readonly live: boolean;
  /** It waited out a retry and goes back in line at its place (its camera kept its turn). */
  readonly again: boolean;
};

/**
 * p-queue's `queueClass` for the upload pool: the scheduler decides which segment goes next
 * (fair across cameras, ordered within each, live first when asked). p-queue calls `dequeue()`
 * whenever `size` > 0 and a slot is free, and runs what it returns at once, so `size` counts only
 * segments that may go now: while every camera with work is at its share, it is 0 and p-queue
 * waits for a task to end (or the next `add`) before asking again.
 */
export class FairQueue implements Queue<RunFunction, SegmentTaskOptions> {
  readonly #scheduler: UploadScheduler;
  /** p-queue's task of each waiting segment. */
  readonly #runs = new Map<string, RunFunction>();
  /** The job each task was handed out as, until the task reads it (`take`). */
  readonly #handedOut = new Map<string, UploadJob>();

  constructor(scheduler: UploadScheduler) {
    this.#scheduler = scheduler;
  }

  get size(): number {
    return this.#scheduler.ready();
  }

  enqueue(run: RunFunction, options?: Partial<SegmentTaskOptions>): void {
    const { camera, sequence, live = false, again = false } = options ?? {};
    if (camera === undefined || sequence === undefined)
      throw new TypeError('a segment task needs its camera and sequence');
    if (again) this.#scheduler.retry(camera, sequence);
    else this.#scheduler.add(camera, sequence, live);
    this.#runs.set(key(camera, sequence), run);
  }

  dequeue(): RunFunction | undefined {
    for (let job = this.#scheduler.next(); job; job = this.#scheduler.next()) {
      const id = key(job.camera, job.sequence);
      const run = this.#runs.get(id);
      this.#runs.delete(id);
      if (run) {
        this.#handedOut.set(id, job);
        return run;
      }
      // Handed out with no task (cannot happen while the pool adds each segment once): settled.
      this.#scheduler.finish(job.camera, job.sequence);
    }
    return undefined;
  }

  /** The job a task was handed out as (its `live` is decided when it goes, not when it was added). */
  take(camera: string, sequence: number): UploadJob | undefined {
    const id = key(camera, sequence);
    const job = this.#handedOut.get(id);
    this.#handedOut.delete(id);
    return job;
  }

  /** A camera left: its waiting segments stay in its spool for the next run. */
  removeCamera(camera: string): void {
    this.#scheduler.removeCamera(camera);
    for (const id of this.#runs.keys()) if (id.startsWith(`${camera}\0`)) this.#runs.delete(id);
  }

  filter(): RunFunction[] {
    return [...this.#runs.values()];
  }

  /** The order is the scheduler's: p-queue's priorities are not used. */
  setPriority(): void {}
}

function key(camera: string, sequence: number): string {
  return `${camera}\0${sequence}`;
}
