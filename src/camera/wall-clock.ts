import { AfterLastSegment } from '../spool/salvage.js';

/** A step of the wall clock against the monotonic clock larger than this (s) is reported. */
const JUMP_THRESHOLD_S = 2;

/** The two clocks the relay reads; tests pass fakes. */
export interface Clocks {
  /** Wall clock, ms since the epoch (steps with NTP or a manual change). */
  wallMs(): number;
  /** Monotonic clock, ms (never steps). */
  monoMs(): number;
}

export const SYSTEM_CLOCKS: Clocks = { wallMs: () => Date.now(), monoMs: () => performance.now() };

/**
 * Maps one ffmpeg run's timestamps to UTC wall clock. The first segment anchors the timeline
 * (closing time minus its end time); later segments follow the anchor so timestamps stay
 * continuous. A jump is judged by the wall clock against the monotonic clock, not by when
 * ffmpeg happens to list a segment: a late or early listing (the final segment of a stop, a
 * busy box) is no jump, while an NTP step or a manual change is, and is reported once. Start
 * times stay monotonic within a run.
 */
export class WallClock {
  #anchorMs: number | undefined;
  /** wall − monotonic when the anchor was (re)set. */
  #offsetMs = 0;
  /** Where the last placed segment ends; salvaged files are placed after it. */
  readonly #placed = new AfterLastSegment();
  readonly #clocks: Clocks;

  constructor(clocks: Clocks = SYSTEM_CLOCKS) {
    this.#clocks = clocks;
  }

  /**
   * `originHintMs`: the wall clock at which output time 0 was captured, if known better than "now
   * minus the segment's end" (a segment listed late, in the burst after ffmpeg's probe).
   */
  place(startS: number, endS: number, originHintMs?: number): { start: Date; clockJumpS?: number } {
    const wall = this.#clocks.wallMs();
    const offset = wall - this.#clocks.monoMs();
    let clockJumpS: number | undefined;
    if (this.#anchorMs === undefined) {
      this.#anchorMs = Math.min(wall - endS * 1000, originHintMs ?? Number.POSITIVE_INFINITY);
      this.#offsetMs = offset;
    } else {
      const jumpMs = offset - this.#offsetMs;
      if (Math.abs(jumpMs) > JUMP_THRESHOLD_S * 1000) {
        clockJumpS = Math.round(jumpMs) / 1000;
        this.#anchorMs += jumpMs;
        this.#offsetMs = offset;
      }
    }
    // Start times never go back within a run: after a backward step, segments continue from the
    // last one until the new wall clock catches up (the jump header tells the cloud by how much).
    const startMs = Math.max(
      this.#anchorMs + startS * 1000,
      this.#placed.lastEndMs ?? Number.NEGATIVE_INFINITY,
    );
    this.#placed.follow(startMs + (endS - startS) * 1000);
    return clockJumpS === undefined ? { start: new Date(startMs) } : { start: new Date(startMs), clockJumpS };
  }

  /** Seconds from the end of the last placed segment to `mtimeMs` (0 when none was placed). */
  sinceLastEndS(mtimeMs: number): number {
    return this.#placed.sinceLastEndS(mtimeMs);
  }

  /** Start of a salvaged segment: right after the last one, else its file time minus its length. */
  next(durationS: number, mtimeMs: number): Date {
    return this.#placed.next(durationS, mtimeMs);
  }
}
