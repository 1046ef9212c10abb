/** A jump of the wall clock larger than this (s) against ffmpeg's timeline is reported. */
const JUMP_THRESHOLD_S = 2;

/**
 * Maps one ffmpeg run's timestamps to UTC wall clock. The first segment anchors the timeline
 * (closing time minus its duration); later segments follow the anchor so timestamps stay
 * continuous, unless the wall clock moved away from it (NTP step, suspend), which is reported.
 */
export class WallClock {
  #anchorMs: number | undefined;
  #lastEndMs: number | undefined;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  place(startS: number, endS: number): { start: Date; clockJumpS?: number } {
    const observedStartMs = this.#now() - (endS - startS) * 1000;
    let clockJumpS: number | undefined;
    if (this.#anchorMs === undefined) {
      this.#anchorMs = observedStartMs - startS * 1000;
    } else {
      const driftS = (observedStartMs - (this.#anchorMs + startS * 1000)) / 1000;
      if (Math.abs(driftS) > Math.max(JUMP_THRESHOLD_S, endS - startS)) {
        clockJumpS = Math.round(driftS * 1000) / 1000;
        this.#anchorMs = observedStartMs - startS * 1000;
      }
    }
    const startMs = this.#anchorMs + startS * 1000;
    this.#lastEndMs = this.#anchorMs + endS * 1000;
    return clockJumpS === undefined ? { start: new Date(startMs) } : { start: new Date(startMs), clockJumpS };
  }

  /** Start of a salvaged segment: right after the last one, else its file time minus its length. */
  next(durationS: number, mtimeMs: number): Date {
    const startMs = this.#lastEndMs ?? mtimeMs - durationS * 1000;
    this.#lastEndMs = startMs + durationS * 1000;
    return new Date(startMs);
  }
}
