import type { WaitingQueue } from '../spool/spool-roles.js';
import type { UploadOrder } from '../types.js';

export type { UploadOrder, WaitingQueue };

/** One segment handed out to be sent. `live`: the newest segment of its camera, closed in this run. */
export interface UploadJob {
  readonly camera: string;
  readonly sequence: number;
  readonly live: boolean;
}

/** What the scheduler keeps of a camera: policy only; its segments are its spool's. */
interface CameraTurn {
  readonly queue: WaitingQueue;
  /** Handed out and not yet finished: in flight or waiting out a retry. */
  active: number;
  /** When the camera was last served (a tick): the one served longest ago goes first. */
  servedAt: number;
  /** The newest segment capture closed in this run, until it is finished: the camera's live edge. */
  live: number | undefined;
}

/**
 * Which segment goes next, across every camera of the process: a policy object with no I/O,
 * driven by the upload pool (and by tests, step by step). It asks each camera's spool for its
 * waiting segments and keeps none of its own. Fair: the camera served longest ago goes first, so
 * a long backlog cannot starve another camera's live segments. Ordered: a camera has at most
 * `perCameraLimit` segments active, and with 1 (and fifo) they go strictly in sequence order, a
 * retry included — a segment waiting out its backoff keeps its camera's turn.
 */
export class UploadScheduler {
  readonly #order: UploadOrder;
  #perCameraLimit: number;
  readonly #cameras = new Map<string, CameraTurn>();
  #tick = 0;

  constructor(order: UploadOrder, perCameraLimit: number) {
    this.#order = order;
    this.#perCameraLimit = Math.max(1, perCameraLimit);
  }

  /** Cameras came or went (a reload): each may now have this many segments active. */
  setPerCameraLimit(limit: number): void {
    this.#perCameraLimit = Math.max(1, limit);
  }

  /** A camera's segments come from `queue` (its spool) until it is removed. */
  addCamera(camera: string, queue: WaitingQueue): void {
    this.#cameras.set(camera, { queue, active: 0, servedAt: 0, live: undefined });
  }

  /** The camera leaves (stopped): its waiting segments stay in its spool for the next run. */
  removeCamera(camera: string): void {
    this.#cameras.delete(camera);
  }

  /** Capture closed `sequence`: the newest such segment is the camera's live edge. */
  closed(camera: string, sequence: number): void {
    const turn = this.#cameras.get(camera);
    // Only the newest captured segment is the live edge: the one before it is backlog now.
    if (turn && (turn.live === undefined || sequence > turn.live)) turn.live = sequence;
  }

  /** The next segment to send, handed out (its spool offers it no more); undefined when none may go. */
  next(): UploadJob | undefined {
    const tiers: Array<'live' | 'any'> = this.#order === 'live-first' ? ['live', 'any'] : ['any'];
    for (const tier of tiers) {
      let best: { camera: string; turn: CameraTurn; pick: number } | undefined;
      for (const [camera, turn] of this.#cameras) {
        if (turn.active >= this.#perCameraLimit) continue;
        if (best && turn.servedAt >= best.turn.servedAt) continue;
        const pick = tier === 'live' ? waitingLive(turn) : turn.queue.oldestWaiting();
        if (pick !== undefined) best = { camera, turn, pick };
      }
      if (!best) continue;
      const { camera, turn, pick } = best;
      turn.queue.handOut(pick);
      turn.active++;
      turn.servedAt = ++this.#tick;
      return { camera, sequence: pick, live: pick === turn.live };
    }
    return undefined;
  }

  /** How many segments may be handed out now (0 while every camera with work is at its limit). */
  ready(): number {
    let ready = 0;
    for (const turn of this.#cameras.values()) {
      ready += Math.min(turn.queue.waitingCount, Math.max(0, this.#perCameraLimit - turn.active));
    }
    return ready;
  }

  /**
   * The job is over (delivered, rejected, dropped, or left for the next run): its place is free.
   * One left for the next run stays handed out, so this run does not offer it again.
   */
  finish(camera: string, sequence: number): void {
    const turn = this.#cameras.get(camera);
    if (!turn) return;
    turn.active = Math.max(0, turn.active - 1);
    if (turn.live === sequence) turn.live = undefined;
  }

  /** The job failed and waited out its backoff: its spool offers it again, at its place in order. */
  retry(camera: string, sequence: number): void {
    const turn = this.#cameras.get(camera);
    if (!turn) return;
    turn.active = Math.max(0, turn.active - 1);
    // Still the live edge if nothing newer was captured meanwhile.
    turn.queue.giveBack(sequence);
  }

  /** Segments waiting plus active, for one camera. */
  size(camera: string): number {
    const turn = this.#cameras.get(camera);
    return turn ? turn.queue.waitingCount + turn.active : 0;
  }
}

/** The camera's live edge, when it is the newest segment waiting to be sent. */
function waitingLive(turn: CameraTurn): number | undefined {
  return turn.live !== undefined && turn.queue.newestWaiting() === turn.live ? turn.live : undefined;
}
