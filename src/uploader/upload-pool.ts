import type { RateLimiter } from './rate-limiter.js';
import type { Pace } from './transport.js';
import { type UploadJob, type UploadOrder, UploadScheduler } from './upload-scheduler.js';

/** What a camera does with a job: one attempt, and how to wait before the next one if any. */
export interface PoolWorker {
  /**
   * One attempt at `job` (one request, or two when the camera still has to register). Resolves
   * undefined when the segment is settled (or must wait for the next run), or with the wait to
   * sit out before it is tried again; the wait holds no request slot.
   */
  attempt(job: UploadJob, pace: Pace | undefined): Promise<(() => Promise<void>) | undefined>;
}

/** One camera's seat in the pool. */
export interface PoolMember {
  /** Queue a spooled segment; `live` when capture just closed it. */
  add(sequence: number, live: boolean): void;
  /** Segments queued or active. */
  readonly size: number;
  /** Resolves when nothing of this camera is queued or active. */
  idle(): Promise<void>;
  /** Stop handing out this camera's jobs; resolves once its running attempts have returned. */
  leave(): Promise<void>;
}

export interface UploadPoolOptions {
  /** Requests in flight at once, over every camera (--upload-concurrency). */
  readonly concurrency: number;
  readonly order: UploadOrder;
  /** Segments one camera may have active at once; 1 keeps its segments in order. */
  readonly perCameraLimit: number;
  /** --max-upload-rate: every byte uploaded goes through it. */
  readonly limiter?: RateLimiter | undefined;
}

interface Seat {
  readonly worker: PoolWorker;
  readonly running: Set<Promise<void>>;
  readonly idleWaiters: Array<() => void>;
  left: boolean;
}

/**
 * The one upload pool of the process: every camera's segments go through it, at most
 * `concurrency` requests at once, in the order the scheduler decides (fair across cameras,
 * ordered within each, live first when asked). A failing camera's retries wait outside the
 * pool's slots, so its trouble never holds up the others.
 */
export class UploadPool {
  #o: UploadPoolOptions;
  readonly #scheduler: UploadScheduler;
  readonly #seats = new Map<string, Seat>();
  #inFlight = 0;
  #pumpQueued = false;

  constructor(options: UploadPoolOptions) {
    this.#o = options;
    this.#scheduler = new UploadScheduler(options.order, options.perCameraLimit);
  }

  /** New limits (a reload); requests in flight beyond them finish, no new ones start. */
  resize(concurrency: number, perCameraLimit: number): void {
    this.#o = { ...this.#o, concurrency, perCameraLimit };
    this.#scheduler.setPerCameraLimit(perCameraLimit);
    this.#pump();
  }

  join(camera: string, worker: PoolWorker): PoolMember {
    if (this.#seats.has(camera)) throw new Error(`camera ${camera} already has a seat in the upload pool`);
    const seat: Seat = { worker, running: new Set(), idleWaiters: [], left: false };
    this.#seats.set(camera, seat);
    const scheduler = this.#scheduler;
    return {
      add: (sequence, live) => {
        if (seat.left) return;
        scheduler.add(camera, sequence, live);
        this.#pump();
      },
      get size() {
        return scheduler.size(camera);
      },
      idle: () =>
        scheduler.size(camera) === 0 || seat.left
          ? Promise.resolve()
          : new Promise<void>((resolve) => seat.idleWaiters.push(resolve)),
      leave: async () => {
        seat.left = true;
        scheduler.removeCamera(camera);
        this.#wakeIdle(camera, seat);
        await Promise.all(seat.running);
        if (this.#seats.get(camera) === seat) this.#seats.delete(camera);
      },
    };
  }

  #pump(): void {
    while (this.#inFlight < this.#o.concurrency) {
      const job = this.#scheduler.next();
      if (!job) return;
      const seat = this.#seats.get(job.camera);
      if (!seat || seat.left) {
        this.#scheduler.finish(job.camera, job.sequence);
        continue;
      }
      this.#inFlight++;
      const run = this.#run(job, seat).finally(() => seat.running.delete(run));
      seat.running.add(run);
    }
  }

  async #run(job: UploadJob, seat: Seat): Promise<void> {
    const limiter = this.#o.limiter;
    const pace: Pace | undefined = limiter
      ? (bytes) => limiter.take(bytes, job.live ? 'live' : 'backlog')
      : undefined;
    let wait: (() => Promise<void>) | undefined;
    try {
      wait = await seat.worker.attempt(job, pace);
    } catch {
      // A worker turns its own failures into a wait (the Uploader does); one that throws all the
      // same settles the job: the segment stays spooled for the next run.
    } finally {
      this.#inFlight--;
    }
    if (wait && !seat.left) {
      // The slot is free while the segment sits out its backoff; the camera's turn is kept.
      this.#pump();
      await wait();
      if (!seat.left) this.#scheduler.retry(job.camera, job.sequence);
      this.#wakeIdle(job.camera, seat);
      // When the ingest is back, every waiting segment is released at once: all go back in line
      // first, then the scheduler picks, so they go in its order rather than in wake-up order.
      this.#pumpSoon();
      return;
    }
    this.#scheduler.finish(job.camera, job.sequence);
    this.#wakeIdle(job.camera, seat);
    this.#pump();
  }

  #pumpSoon(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #wakeIdle(camera: string, seat: Seat): void {
    if (!seat.left && this.#scheduler.size(camera) > 0) return;
    for (const resolve of seat.idleWaiters.splice(0)) resolve();
  }
}
