import type { UploadOrder } from '../types.js';

export type { UploadOrder };

/** One segment handed out to be sent. `live`: the newest segment of its camera, closed in this run. */
export interface UploadJob {
  readonly camera: string;
  readonly sequence: number;
  readonly live: boolean;
}

interface CameraQueue {
  /** Waiting segments by sequence, ascending; the value says it came from capture in this run. */
  readonly waiting: Map<number, boolean>;
  /** Handed out and not yet finished (in flight or waiting out a retry), with its waiting value. */
  readonly active: Map<number, boolean>;
}

/**
 * Which segment goes next, across every camera of the process: a pure policy object with no
 * I/O, driven by the upload pool (and by tests, step by step). Fair: the camera served longest
 * ago goes first, so a long backlog cannot starve another camera's live segments. Ordered: a camera has at most
 * `perCameraLimit` segments active, and with 1 (and fifo) they go strictly in sequence order,
 * a retry included — a segment waiting out its backoff keeps its camera's turn.
 */
export class UploadScheduler {
  readonly #order: UploadOrder;
  #perCameraLimit: number;
  readonly #cameras = new Map<string, CameraQueue>();
  /** When each camera was last served (a tick): the one served longest ago goes first. */
  readonly #servedAt = new Map<string, number>();
  #tick = 0;

  constructor(order: UploadOrder, perCameraLimit: number) {
    this.#order = order;
    this.#perCameraLimit = Math.max(1, perCameraLimit);
  }

  /** Cameras came or went (a reload): each may now have this many segments active. */
  setPerCameraLimit(limit: number): void {
    this.#perCameraLimit = Math.max(1, limit);
  }

  /** Queue a segment; `live` when capture just closed it (false for a backlog adopted at start). */
  add(camera: string, sequence: number, live: boolean): void {
    let queue = this.#cameras.get(camera);
    if (!queue) {
      queue = { waiting: new Map(), active: new Map() };
      this.#cameras.set(camera, queue);
      this.#servedAt.set(camera, 0);
    }
    if (queue.waiting.has(sequence) || queue.active.has(sequence)) return;
    if (live) {
      // Only the newest captured segment is the live edge: the ones before it are backlog now.
      for (const older of [...queue.waiting.keys(), ...queue.active.keys()]) {
        if (older < sequence) (queue.waiting.has(older) ? queue.waiting : queue.active).set(older, false);
      }
    }
    // Map iteration is insertion order: keep it ascending (adoption may add older ones later).
    const last = [...queue.waiting.keys()].at(-1);
    if (last !== undefined && sequence < last) {
      const sorted = [...queue.waiting, [sequence, live] as const].sort((a, b) => a[0] - b[0]);
      queue.waiting.clear();
      for (const [s, l] of sorted) queue.waiting.set(s, l);
    } else queue.waiting.set(sequence, live);
  }

  /** The next segment to send, marked active; undefined when nothing may go now. */
  next(): UploadJob | undefined {
    const tiers: Array<'live' | 'any'> = this.#order === 'live-first' ? ['live', 'any'] : ['any'];
    for (const tier of tiers) {
      let best: { camera: string; queue: CameraQueue; pick: number } | undefined;
      for (const [camera, queue] of this.#cameras) {
        if (queue.active.size >= this.#perCameraLimit) continue;
        if (best && this.#servedAt.get(camera)! >= this.#servedAt.get(best.camera)!) continue;
        const pick = this.#pick(queue, tier);
        if (pick !== undefined) best = { camera, queue, pick };
      }
      if (!best) continue;
      const { camera, queue, pick } = best;
      const live = queue.waiting.get(pick)! && pick === this.#newest(queue);
      queue.active.set(pick, queue.waiting.get(pick)!);
      queue.waiting.delete(pick);
      this.#servedAt.set(camera, ++this.#tick);
      return { camera, sequence: pick, live };
    }
    return undefined;
  }

  /** The job is over for good (delivered, rejected, dropped, or left for the next run). */
  finish(camera: string, sequence: number): void {
    this.#cameras.get(camera)?.active.delete(sequence);
  }

  /**
   * The job failed and waited out its backoff: it goes back in line, at its place in order. It
   * stays what it was: a live segment refused during an outage is still the camera's live edge
   * when the outage ends, so with live-first it goes before the backlog, not behind it.
   */
  retry(camera: string, sequence: number): void {
    const live = this.#cameras.get(camera)?.active.get(sequence);
    if (live === undefined) return;
    this.#cameras.get(camera)!.active.delete(sequence);
    this.add(camera, sequence, live);
  }

  /** A waiting segment went away (evicted): forget it. Active ones are finished by their job. */
  remove(camera: string, sequence: number): void {
    this.#cameras.get(camera)?.waiting.delete(sequence);
  }

  /** The camera leaves (stopped): its waiting segments stay in its spool for the next run. */
  removeCamera(camera: string): void {
    this.#cameras.delete(camera);
    this.#servedAt.delete(camera);
  }

  /** Segments waiting plus active, for one camera. */
  size(camera: string): number {
    const queue = this.#cameras.get(camera);
    return queue ? queue.waiting.size + queue.active.size : 0;
  }

  #pick(queue: CameraQueue, tier: 'live' | 'any'): number | undefined {
    if (queue.waiting.size === 0) return undefined;
    if (tier === 'live') {
      const newest = this.#newest(queue);
      return newest !== undefined && queue.waiting.get(newest) ? newest : undefined;
    }
    // fifo, and live-first's second tier: the oldest waiting segment.
    return queue.waiting.keys().next().value;
  }

  #newest(queue: CameraQueue): number | undefined {
    let newest: number | undefined;
    for (const sequence of queue.waiting.keys()) newest = sequence;
    // A newer segment already sent means this one is backlog, not the camera's live edge.
    for (const sequence of queue.active.keys())
      if (newest !== undefined && sequence > newest) return undefined;
    return newest;
  }
}
