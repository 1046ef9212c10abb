/**
 * The time a stop may take, counted from the moment it is requested: every phase of a shutdown
 * (ffmpeg closing its segment, salvage probes, the drain, the session DELETE) asks it how long
 * it may still run, so the whole stop fits --drain-timeout wherever it began.
 */
export class StopBudget {
  readonly #hard = new AbortController();
  readonly #reserveMs: number;
  #deadline: number | undefined;
  /** Resolves when the stop is requested. */
  readonly started: Promise<void>;

  /** `reserveMs` of the budget is kept for the very end (the DELETE, closing the spool). */
  constructor(stop: AbortSignal, budgetMs: number, reserveMs: number) {
    this.#reserveMs = Math.min(reserveMs, budgetMs / 2);
    this.started = new Promise((resolve) => {
      const begin = () => {
        this.#deadline = performance.now() + budgetMs;
        setTimeout(() => this.#hard.abort(), budgetMs - this.#reserveMs).unref();
        resolve();
      };
      if (stop.aborted) begin();
      else stop.addEventListener('abort', begin, { once: true });
    });
  }

  /** Aborted when only the reserve is left: probes and waits give up then. */
  get hard(): AbortSignal {
    return this.#hard.signal;
  }

  /** Until the deadline; Infinity while no stop was requested. */
  remainingMs(): number {
    return this.#deadline === undefined
      ? Number.POSITIVE_INFINITY
      : Math.max(0, this.#deadline - performance.now());
  }

  /** What the main work of a stop (closing ffmpeg, draining) may still use. */
  untilReserveMs(): number {
    return Math.max(0, this.remainingMs() - this.#reserveMs);
  }

  /** A wait of at most `maxMs` that ends before the reserve is touched. */
  graceMs(maxMs: number): number {
    return Math.min(maxMs, this.untilReserveMs());
  }

  /** A last step of at most `maxMs`, ending a little before the deadline. */
  finalMs(maxMs: number): number {
    return Math.min(maxMs, Math.max(0, this.remainingMs() - 150));
  }
}
