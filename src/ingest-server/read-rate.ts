import { setTimeout as delay } from 'node:timers/promises';

/**
 * A slow link in front of the ingest: every request body the server reads takes its turn on one
 * clock of `bytesPerS`, shared by all connections (a link's capacity is shared, not per socket).
 * While a reader waits its socket is not read, so TCP backpressure reaches the client.
 */
export class ReadRateLimit {
  readonly #bytesPerS: number;
  /** performance.now() at which the link has sent everything granted so far. */
  #freeAt = 0;

  constructor(bytesPerS: number) {
    this.#bytesPerS = bytesPerS;
  }

  /** Resolve once `bytes` more may have been read; an idle link grants no burst. */
  async take(bytes: number): Promise<void> {
    const now = performance.now();
    this.#freeAt = Math.max(now, this.#freeAt) + (bytes / this.#bytesPerS) * 1000;
    const wait = this.#freeAt - now;
    if (wait >= 1) await delay(wait);
  }
}
