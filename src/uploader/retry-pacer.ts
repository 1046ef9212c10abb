import { type BackoffPolicy, backoffDelay, sleep } from '../backoff.js';
import type { TransientVerdict } from './classify.js';

/** The backoff drawn for one retry, and whether to probe the ingest instead of sitting it out. */
export interface RetryPlan {
  readonly delayMs: number;
  readonly probe: boolean;
}

export interface RetryPacerOptions {
  readonly backoff: BackoffPolicy;
  /** One cheap request to the ingest: true when anything answers (any HTTP status). */
  readonly probe: (signal: AbortSignal) => Promise<boolean>;
  /** Mean time between probes while the ingest is unreachable; each wait is jittered ±25 %. */
  readonly probeIntervalMs: number;
  /** Told once when probing starts and once when the ingest answers again. */
  readonly onReachability?: (reachable: boolean) => void;
  readonly random?: () => number;
}

/**
 * Decides when a TRANSIENT failure is tried again. A server that answered (5xx, 429) gets its
 * Retry-After or an exponential backoff with full jitter. A failure of the connection itself
 * (refused, reset, DNS, no answer by the deadline) is met by probing every couple of seconds:
 * if the very first probe answers, the ingest is up and the request was the trouble, so the
 * full backoff applies; if it does not, the ingest is away, and the retry goes out the moment a
 * probe answers again — after an outage the backlog resumes within a probe interval instead of
 * sitting out a long backoff. Concurrent waiters share one probe loop.
 */
export class RetryPacer {
  readonly #o: RetryPacerOptions;
  readonly #random: () => number;
  #awayLoop: Promise<void> | undefined;

  constructor(options: RetryPacerOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
  }

  /** What to do before attempt `attempt + 1`. */
  plan(verdict: TransientVerdict, attempt: number): RetryPlan {
    const delayMs = backoffDelay(this.#o.backoff, attempt, verdict.retryAfterMs, this.#random);
    return { delayMs, probe: verdict.unreachable && verdict.retryAfterMs === undefined };
  }

  /** Carry out a plan; returns early (without throwing) when `signal` aborts. */
  async wait(plan: RetryPlan, signal: AbortSignal): Promise<void> {
    if (!plan.probe) return sleep(plan.delayMs, signal);
    if (this.#awayLoop) return this.#joinAwayLoop(signal);
    const started = Date.now();
    await sleep(Math.min(plan.delayMs, this.#jittered()), signal);
    if (signal.aborted) return;
    if (this.#awayLoop) return this.#joinAwayLoop(signal);
    if (await this.#o.probe(signal)) {
      return sleep(Math.max(0, plan.delayMs - (Date.now() - started)), signal);
    }
    if (signal.aborted) return;
    this.#awayLoop ??= this.#untilReachable(signal).finally(() => {
      this.#awayLoop = undefined;
    });
    return this.#joinAwayLoop(signal);
  }

  async #untilReachable(signal: AbortSignal): Promise<void> {
    this.#o.onReachability?.(false);
    while (!signal.aborted) {
      await sleep(this.#jittered(), signal);
      if (signal.aborted) return;
      if (await this.#o.probe(signal)) {
        this.#o.onReachability?.(true);
        return;
      }
    }
  }

  /** Wait for the shared loop, but leave at once if this waiter's own signal aborts. */
  async #joinAwayLoop(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    let leave!: () => void;
    const left = new Promise<void>((resolve) => {
      leave = resolve;
    });
    signal.addEventListener('abort', leave, { once: true });
    try {
      await Promise.race([this.#awayLoop, left]);
    } finally {
      signal.removeEventListener('abort', leave);
    }
  }

  #jittered(): number {
    return Math.round(this.#o.probeIntervalMs * (0.75 + 0.5 * this.#random()));
  }
}
