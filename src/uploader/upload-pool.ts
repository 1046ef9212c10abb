import PQueue from 'p-queue';
import { FairQueue } from './fair-queue.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Pace } from './transport.js';
import { type UploadJob, type UploadOrder, UploadScheduler, type WaitingQueue } from './upload-scheduler.js';

/** What a camera does with a job: one attempt, and how to wait before the next one if any. */
export interface PoolWorker {
  /**
   * One attempt at `job` (one request, or two when the camera still has to register). Resolves
   * undefined when the segment is settled (or must wait for the next run), or with the wait to
   * sit out before it is tried again; the wait holds no request slot. Never rejects: a failure
   * of its own is a wait as well.
   */
  attempt(job: UploadJob, pace: Pace | undefined): Promise<(() => Promise<void>) | undefined>;
}

/** One camera's seat in the pool. */
export interface PoolMember {
  /** Segments waiting in the camera's spool or active. */
  readonly size: number;
  /** Resolves when nothing of this camera is waiting or active. */
  idle(): Promise<void>;
  /** Stop handing out this camera's segments; resolves once its running attempts have returned. */
  leave(): Promise<void>;
}

export interface UploadPoolOptions {
  /** Requests in flight at once, over every camera (--upload-concurrency). */
  readonly concurrency: number;
  readonly order: UploadOrder;
  /** Segments one camera may have active at once; 1 keeps its segments in order. */
  readonly perCameraLimit: number;
  /** --max-upload-rate: every byte uploaded goes through it (p-queue counts tasks, not bytes). */
  readonly limiter?: RateLimiter | undefined;
}

interface Seat {
  readonly worker: PoolWorker;
  readonly running: Set<Promise<void>>;
  readonly idleWaiters: Array<() => void>;
  left: boolean;
  unlisten: () => void;
}

/**
 * The one upload pool of the process: every camera's segments go through one p-queue, at most
 * `concurrency` requests at once, in the order its queueClass (the scheduler) decides: fair
 * across cameras, ordered within each, live first when asked. The segments stay in each camera's
 * spool: p-queue's tasks are turns, and the scheduler asks the spools which segment a turn sends.
 * A failing camera's retries wait outside the queue's slots, so its trouble never holds up the others.
 */
export class UploadPool {
  readonly #limiter: RateLimiter | undefined;
  readonly #scheduler: UploadScheduler;
  readonly #fair: FairQueue;
  readonly #queue: PQueue<FairQueue>;
  readonly #seats = new Map<string, Seat>();
  /** Turns queued or running: at least the concurrency, so a free slot always finds one. */
  #turns = 0;
  #lookScheduled = false;
  /** Segments back from a retry wait, put back in line together (see #requeueSoon). */
  #again: Array<{ readonly job: UploadJob; readonly seat: Seat }> = [];

  constructor(options: UploadPoolOptions) {
    this.#limiter = options.limiter;
    const scheduler = new UploadScheduler(options.order, options.perCameraLimit);
    let fair: FairQueue | undefined;
    // p-queue builds its queue itself, with no arguments: this one shares the pool's scheduler.
    class PoolQueue extends FairQueue {
      constructor() {
        super(scheduler);
        fair = this;
      }
    }
    this.#queue = new PQueue({ concurrency: options.concurrency, queueClass: PoolQueue });
    this.#scheduler = scheduler;
    this.#fair = fair!;
    this.#addTurns(options.concurrency);
  }

  /** New limits (a reload); requests in flight beyond them finish, no new ones start. */
  resize(concurrency: number, perCameraLimit: number): void {
    this.#scheduler.setPerCameraLimit(perCameraLimit);
    this.#addTurns(concurrency - this.#turns);
    // Setting it makes p-queue look for work again, under the new per-camera limit too.
    this.#queue.concurrency = concurrency;
  }

  /** Seat a camera whose segments wait in `queue` (its spool's): they go as the scheduler picks. */
  join(camera: string, worker: PoolWorker, queue: WaitingQueue): PoolMember {
    if (this.#seats.has(camera)) throw new Error(`camera ${camera} already has a seat in the upload pool`);
    const seat: Seat = { worker, running: new Set(), idleWaiters: [], left: false, unlisten: () => {} };
    this.#seats.set(camera, seat);
    const scheduler = this.#scheduler;
    scheduler.addCamera(camera, queue);
    // The spool says when its waiting segments change: one closed (the new live edge) or adopted
    // is work to look for, one evicted may leave the camera idle.
    seat.unlisten = queue.listen((closed) => {
      if (seat.left) return;
      if (closed !== undefined) scheduler.closed(camera, closed);
      this.#lookSoon();
      this.#wakeIdle(camera, seat);
    });
    // Its spool may hold a backlog already (adopted at start).
    this.#lookSoon();
    return {
      get size() {
        return scheduler.size(camera);
      },
      idle: () =>
        scheduler.size(camera) === 0 || seat.left
          ? Promise.resolve()
          : new Promise<void>((resolve) => seat.idleWaiters.push(resolve)),
      leave: async () => {
        seat.left = true;
        seat.unlisten();
        scheduler.removeCamera(camera);
        this.#wakeIdle(camera, seat);
        await Promise.all(seat.running);
        if (this.#seats.get(camera) === seat) this.#seats.delete(camera);
      },
    };
  }

  #addTurns(count: number): void {
    for (let i = 0; i < count; i++) {
      this.#turns++;
      void this.#queue.add(this.#turn);
    }
  }

  /** One of p-queue's tasks: sends the segment it was handed out with, then queues a turn again. */
  readonly #turn = async (): Promise<void> => {
    const job = this.#fair.take();
    try {
      if (job) await this.#run(job);
    } finally {
      void this.#queue.add(this.#turn);
    }
  };

  /**
   * p-queue looks for work when a task is added or ends, or when it is started: a spool's new
   * segment is none of these, so it is told to look again (soon, outside the spool's own call).
   */
  #lookSoon(): void {
    if (this.#lookScheduled) return;
    this.#lookScheduled = true;
    queueMicrotask(() => {
      this.#lookScheduled = false;
      this.#queue.pause();
      this.#queue.start();
    });
  }

  async #run(job: UploadJob): Promise<void> {
    const { camera, sequence } = job;
    const seat = this.#seats.get(camera);
    if (!seat || seat.left) {
      this.#scheduler.finish(camera, sequence);
      return;
    }
    const attempt = this.#attempt(job, seat);
    const run = attempt.then(() => undefined);
    seat.running.add(run);
    void run.finally(() => seat.running.delete(run));
    // The request slot is p-queue's until the attempt returns; a retry's wait is sat out after.
    const wait = await attempt;
    if (wait) void this.#sitOut(job, seat, wait);
  }

  async #attempt(job: UploadJob, seat: Seat): Promise<(() => Promise<void>) | undefined> {
    const limiter = this.#limiter;
    const pace: Pace | undefined = limiter
      ? (bytes) => limiter.take(bytes, job.live ? 'live' : 'backlog')
      : undefined;
    let wait: (() => Promise<void>) | undefined;
    try {
      wait = await seat.worker.attempt(job, pace);
    } catch {
      // A worker turns its own failures into a wait (the Uploader does); one that throws all the
      // same settles the job: the segment stays spooled for the next run.
    }
    if (wait && !seat.left) return wait;
    this.#scheduler.finish(job.camera, job.sequence);
    this.#wakeIdle(job.camera, seat);
    return undefined;
  }

  /** The slot is free while the segment sits out its backoff; the camera's turn is kept. */
  async #sitOut(job: UploadJob, seat: Seat, wait: () => Promise<void>): Promise<void> {
    const sat = wait().then(() => {
      if (seat.left) this.#wakeIdle(job.camera, seat);
      else this.#requeueSoon(job, seat);
    });
    seat.running.add(sat);
    await sat.finally(() => seat.running.delete(sat));
  }

  /**
   * When the ingest is back, every waiting segment is released at once: all go back to their
   * spools first, then p-queue looks again and the scheduler picks, so they go in its order
   * rather than in wake-up order.
   */
  #requeueSoon(job: UploadJob, seat: Seat): void {
    this.#again.push({ job, seat });
    if (this.#again.length > 1) return;
    setImmediate(() => {
      const again = this.#again;
      this.#again = [];
      // A camera that left meanwhile (and maybe joined again: a new seat) takes no old job back.
      for (const { job, seat } of again) if (!seat.left) this.#scheduler.retry(job.camera, job.sequence);
      this.#lookSoon();
    });
  }

  #wakeIdle(camera: string, seat: Seat): void {
    if (!seat.left && this.#scheduler.size(camera) > 0) return;
    for (const resolve of seat.idleWaiters.splice(0)) resolve();
  }
}
