import { type BackoffPolicy, backoffDelay, sleep } from '../backoff.js';
import type { TransientVerdict, Verdict } from './classify.js';
import type { HttpOutcome } from './transport.js';

/** The backoff drawn for one retry, and whether the ingest itself looks down. */
export interface RetryPlan {
  readonly delayMs: number;
  /** Unreachable, hung or answering 5xx (and no Retry-After): the process's probe decides. */
  readonly probe: boolean;
  readonly reason: string;
}

/** One cheap request to the ingest: true when it is back ({@link answersAgain}). */
export type Probe = (signal: AbortSignal) => Promise<boolean>;

/** Probes go at least this far apart (start to start), so at most one per 2 s per process… */
export const PROBE_INTERVAL_MS = 2000;
/** …plus up to this much jitter, so a fleet of relays does not come back in lockstep. */
export const PROBE_JITTER_MS = 500;

export interface RetryPacerOptions {
  readonly backoff: BackoffPolicy;
  /** @default PROBE_INTERVAL_MS */
  readonly probeIntervalMs?: number;
  /** @default PROBE_JITTER_MS */
  readonly probeJitterMs?: number;
  /** Told once when the ingest is found away (with why), once when it answers again. */
  readonly onReachability?: (reachable: boolean, why: string) => void;
  readonly random?: () => number;
}

/** The ingest is back when it answers anything but a 5xx: a 404 or 401 to a HEAD still proves it serves. */
export function answersAgain(outcome: HttpOutcome): boolean {
  return outcome.kind === 'response' && outcome.status < 500;
}

/** A verdict that says the ingest itself is down rather than this one request refused. */
function ingestDown(verdict: TransientVerdict): boolean {
  return verdict.unreachable || (verdict.status !== undefined && verdict.status >= 500);
}

type State = 'up' | 'suspect' | 'away';

/**
 * When a TRANSIENT failure is tried again: one per relay process, shared by every camera. A
 * refusal with Retry-After waits that long; a 429 or a local failure gets exponential backoff
 * with full jitter. A failure that says the ingest itself is down (refused, reset, hung, 5xx)
 * makes it *suspect*: the failed segment waits its backoff as usual, and one probe goes out a
 * probe interval later unless another request succeeds first. If the probe answers, the ingest
 * is up and that request was the trouble. If not, the ingest is *away*: said once, probed
 * every 2–2.5 s by one loop for the whole process, cameras whose segments failed hold theirs
 * (see `holds`), and the moment a probe (or any request) is answered, every waiting segment
 * goes again at once — recovery takes one probe interval, not a long backoff.
 */
export class RetryPacer {
  readonly #o: RetryPacerOptions;
  /** The backoff policy; a reload may change it. */
  backoff: BackoffPolicy;
  readonly #random: () => number;
  readonly #intervalMs: number;
  readonly #jitterMs: number;
  #state: State = 'up';
  #episode = 0;
  #probe: Probe | undefined;
  #why = '';
  #loop: AbortController | undefined;
  /** Released when the ingest answers again after being away. */
  readonly #backWaiters = new Set<() => void>();

  constructor(options: RetryPacerOptions) {
    this.#o = options;
    this.backoff = options.backoff;
    this.#random = options.random ?? Math.random;
    this.#intervalMs = options.probeIntervalMs ?? PROBE_INTERVAL_MS;
    this.#jitterMs = options.probeJitterMs ?? PROBE_JITTER_MS;
  }

  /** The ingest was found away and has not answered since. */
  get away(): boolean {
    return this.#state === 'away';
  }

  /** Counts suspicions: a camera whose segment failed in this one holds its others while away. */
  get episode(): number {
    return this.#episode;
  }

  /** What to do before attempt `attempt + 1`. */
  plan(verdict: TransientVerdict, attempt: number): RetryPlan {
    const delayMs = backoffDelay(this.backoff, attempt, verdict.retryAfterMs, this.#random);
    return {
      delayMs,
      probe: verdict.retryAfterMs === undefined && ingestDown(verdict),
      reason: verdict.reason,
    };
  }

  /**
   * Carry out a plan; returns early (without throwing) when `signal` aborts. `probe` asks the
   * ingest on the failed camera's behalf: the first suspect's probe serves the whole process.
   */
  async wait(plan: RetryPlan, signal: AbortSignal, probe?: Probe): Promise<void> {
    if (!plan.probe || !probe) return sleep(plan.delayMs, signal);
    this.#suspect(plan.reason, probe);
    if (this.#state === 'away') return this.untilBack(signal);
    // Suspect only: the usual backoff, cut short if the ingest is found away and comes back.
    const done = new AbortController();
    const stop = () => done.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([sleep(plan.delayMs, done.signal), this.untilBack(done.signal)]);
    } finally {
      done.abort();
      signal.removeEventListener('abort', stop);
    }
    // The backoff ran out while the ingest is away: no request until a probe finds it back.
    if (this.away) await this.untilBack(signal);
  }

  /** Resolves when the ingest answers again after being away, or when `signal` aborts. */
  untilBack(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const release = () => {
        this.#backWaiters.delete(release);
        signal.removeEventListener('abort', release);
        resolve();
      };
      this.#backWaiters.add(release);
      signal.addEventListener('abort', release, { once: true });
    });
  }

  /**
   * Every verdict of every request: one the ingest answered (delivered, rejected, 429…) proves
   * it serves — a suspicion is dropped, an absence ends at once.
   */
  observe(verdict: Verdict): void {
    if (verdict.class === 'unreadable') return;
    if (verdict.class === 'transient') {
      const answered = verdict.status !== undefined && verdict.status < 500;
      if (!answered) return;
    }
    this.#answered();
  }

  /**
   * Stop probing (the process is ending); waiters are left to their own signals. Until then the
   * loop goes on even while nobody waits: the failed segments may be in flight again (a hung
   * POST), and ending the absence there would say it twice.
   */
  close(): void {
    this.#loop?.abort();
    this.#loop = undefined;
    this.#state = 'up';
  }

  #suspect(why: string, probe: Probe): void {
    if (this.#state !== 'up') return;
    this.#state = 'suspect';
    this.#episode++;
    this.#probe = probe;
    this.#why = why;
    this.#loop = new AbortController();
    void this.#probeLoop(this.#episode, this.#loop.signal);
  }

  #answered(): void {
    if (this.#state === 'up') return;
    const wasAway = this.#state === 'away';
    this.close();
    if (!wasAway) return;
    this.#o.onReachability?.(true, '');
    // Every waiting segment at once; the pool hands them out in the scheduler's order.
    for (const release of [...this.#backWaiters]) release();
  }

  /** One loop per suspicion: a probe every interval (start to start) until the ingest answers. */
  async #probeLoop(episode: number, signal: AbortSignal): Promise<void> {
    let lastStart = Date.now();
    while (!signal.aborted && this.#episode === episode) {
      await sleep(Math.max(0, lastStart + this.#interval() - Date.now()), signal);
      if (signal.aborted) return;
      lastStart = Date.now();
      const back = await this.#probe!(signal).catch(() => false);
      if (signal.aborted) return;
      if (back) return this.#answered();
      if (this.#state === 'suspect') {
        this.#state = 'away';
        this.#o.onReachability?.(false, this.#why);
      }
    }
  }

  #interval(): number {
    return Math.round(this.#intervalMs + this.#jitterMs * this.#random());
  }
}
