import type { UploadOrder } from '../types.js';

export type { UploadOrder };

/** One segment handed out to be sent. `live`: the newest segment of its camera, closed in this run. */
export interface UploadJob {
  readonly camera: string;
  readonly sequence: number;
  readonly live: boolean;
}

interface CameraQueue {
  /** Waiting segments, ascending by sequence. */
  readonly waiting: number[];
  /** Handed out and not yet finished: in flight or waiting out a retry. */
  readonly active: Set<number>;
  /** The newest segment capture closed in this run, until it is finished: the camera's live edge. */
  live: number | undefined;
}

/**
 * Which segment goes next, across every camera of the process: a pure policy object with no
 * I/O, driven by the upload pool (and by tests, step by step). Fair: the camera served longest
 * ago goes first, so a long backlog cannot starve another camera's live segments. Ordered: a
 * camera has at most `perCameraLimit` segments active, and with 1 (and fifo) they go strictly in sequence order,
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
      queue = { waiting: [], active: new Set(), live: undefined };
      this.#cameras.set(camera, queue);
      this.#servedAt.set(camera, 0);
    }
    // Only the newest captured segment is the live edge: the one before it is backlog now.
    if (live && (queue.live === undefined || sequence > queue.live)) queue.live = sequence;
    if (queue.active.has(sequence)) return;
    insertSorted(queue.waiting, sequence);
  }

  /** The next segment to send, marked active; undefined when nothing may go now. */
  next(): UploadJob | undefined {
    const tiers: Array<'live' | 'any'> = this.#order === 'live-first' ? ['live', 'any'] : ['any'];
    for (const tier of tiers) {
      let best: { camera: string; queue: CameraQueue; pick: number } | undefined;
      for (const [camera, queue] of this.#cameras) {
        if (queue.active.size >= this.#perCameraLimit) continue;
        if (best && this.#servedAt.get(camera)! >= this.#servedAt.get(best.camera)!) continue;
        const pick = tier === 'live' ? this.#waitingLive(queue) : queue.waiting[0];
        if (pick !== undefined) best = { camera, queue, pick };
      }
      if (!best) continue;
      const { camera, queue, pick } = best;
      queue.waiting.splice(queue.waiting.indexOf(pick), 1);
      queue.active.add(pick);
      this.#servedAt.set(camera, ++this.#tick);
      return { camera, sequence: pick, live: pick === queue.live };
    }
    return undefined;
  }

  /** How many segments may be handed out now (0 while every camera with work is at its limit). */
  ready(): number {
    let ready = 0;
    for (const queue of this.#cameras.values()) {
      ready += Math.min(queue.waiting.length, Math.max(0, this.#perCameraLimit - queue.active.size));
    }
    return ready;
  }

  /** The job is over for good (delivered, rejected, dropped, or left for the next run). */
  finish(camera: string, sequence: number): void {
    const queue = this.#cameras.get(camera);
    if (!queue) return;
    queue.active.delete(sequence);
    if (queue.live === sequence) queue.live = undefined;
  }

  /** The job failed and waited out its backoff: it goes back in line, at its place in order. */
  retry(camera: string, sequence: number): void {
    const queue = this.#cameras.get(camera);
    if (!queue?.active.delete(sequence)) return;
    // Still the live edge if nothing newer was captured meanwhile.
    insertSorted(queue.waiting, sequence);
  }

  /** The camera leaves (stopped): its waiting segments stay in its spool for the next run. */
  removeCamera(camera: string): void {
    this.#cameras.delete(camera);
    this.#servedAt.delete(camera);
  }

  /** Segments waiting plus active, for one camera. */
  size(camera: string): number {
    const queue = this.#cameras.get(camera);
    return queue ? queue.waiting.length + queue.active.size : 0;
  }

  /** The camera's live edge, when it is waiting to be sent. */
  #waitingLive(queue: CameraQueue): number | undefined {
    return queue.live !== undefined && queue.waiting.at(-1) === queue.live ? queue.live : undefined;
  }
}

/** Insert into an ascending list, once (adoption may add older segments, retries put one back). */
function insertSorted(list: number[], value: number): void {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]! < value) low = mid + 1;
    else high = mid;
  }
  if (list[low] !== value) list.splice(low, 0, value);
}
