import { PHASE_TIMEOUT_CODES } from './transport.js';

/** The phases of one exchange, each with its own timer inside the hard deadline. */
export type Phase = keyof typeof PHASE_TIMEOUT_CODES;

/** How long each phase may stay quiet before the ingest is taken for hung. */
export interface PhaseLimits {
  /**
   * TCP and TLS. The agent's `connect.timeout` enforces it (undici does not give up a connection
   * attempt on an abort); requests without a file body also count it in their one timer.
   */
  readonly connectMs: number;
  /** While sending the body: the socket accepted no byte for this long. */
  readonly stallMs: number;
  /**
   * No response headers this long after the last byte was handed to the socket, on top of the
   * time the uplink may need to flush what the socket still holds (see {@link UplinkRate}).
   */
  readonly headersMs: number;
}

/** A few seconds each: a hung ingest is noticed long before a 30 s deadline. */
export const PHASE_LIMITS: PhaseLimits = { connectMs: 5000, stallMs: 5000, headersMs: 5000 };

const MESSAGES: Record<Phase, (ms: number) => string> = {
  connect: (ms) => `no connection to the ingest within ${ms} ms`,
  body: (ms) => `the ingest took no byte of the body for ${ms} ms`,
  headers: (ms) => `no answer ${ms} ms after the request was sent`,
};

/** The typed reason a phase timer aborts a request with (undici's habit: one code per phase). */
export class PhaseTimeoutError extends Error {
  readonly code: (typeof PHASE_TIMEOUT_CODES)[Phase];
  readonly phase: Phase;
  readonly ms: number;

  constructor(phase: Phase, ms: number) {
    super(MESSAGES[phase](ms));
    this.name = 'PhaseTimeoutError';
    this.phase = phase;
    this.ms = ms;
    this.code = PHASE_TIMEOUT_CODES[phase];
  }
}

/** Linux's largest default send buffer: what a socket may still hold after our last write. */
const UNSENT_CAP_BYTES = 4 * 1024 * 1024;
/** Assumed until an upload was measured: a slow uplink (1 Mbit/s), so no first request is cut. */
const ASSUMED_BYTES_PER_S = 125_000;
/** Weight of the newest measurement in the running estimate. */
const NEWEST_WEIGHT = 0.3;

/**
 * How fast uploads go, first byte to answer, as a running average. After the last write the
 * kernel may still hold up to a send buffer's worth of the body; on a slow uplink that takes
 * seconds to leave, so the headers timer grants that time on top: a slow link still moving
 * bytes is never cut, while a fast one notices a hung ingest within `headersMs`.
 */
export class UplinkRate {
  #bytesPerS = ASSUMED_BYTES_PER_S;
  #measured = false;

  /** One upload of `bytes` answered `ms` after its first byte went out. */
  observe(bytes: number, ms: number): void {
    if (bytes <= 0 || ms <= 0) return;
    const rate = (bytes * 1000) / ms;
    this.#bytesPerS = this.#measured ? (1 - NEWEST_WEIGHT) * this.#bytesPerS + NEWEST_WEIGHT * rate : rate;
    this.#measured = true;
  }

  /** How long a body of `bytes` may still need to leave the box after its last write. */
  flushMs(bytes: number): number {
    return Math.ceil((Math.min(bytes, UNSENT_CAP_BYTES) * 1000) / this.#bytesPerS);
  }
}

/**
 * One request's timers and its one abort signal: the hard deadline (from construction), the phase
 * timer — `arm` a phase when it starts (each body chunk re-arms `body`), `disarm` while the relay
 * itself is busy (reading the file, pacing the upload rate) — and an outer signal it follows (a
 * stop). When a phase runs out, `signal` aborts with a {@link PhaseTimeoutError}, kept in
 * `expired`; a phase that would end after the deadline is not armed: the deadline speaks first.
 * `end()` clears the timers and lets go of the outer signal. Not AbortSignal.timeout() and
 * AbortSignal.any(): in Node 20 they kept every request's signals alive until its deadline ran
 * out, 30 s after the answer, and left a reference behind in the long-lived stop signal for good.
 */
export class PhaseWatch {
  readonly #controller = new AbortController();
  readonly #deadlineAt: number;
  readonly #deadline: NodeJS.Timeout;
  #deadlinePassed = false;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => this.#controller.abort(this.#outer?.reason);
  #timer: NodeJS.Timeout | undefined;
  #armed: { phase: Phase; ms: number } | undefined;
  #expired: PhaseTimeoutError | undefined;

  constructor(deadlineMs: number, outer?: AbortSignal) {
    this.#deadlineAt = performance.now() + deadlineMs;
    this.#deadline = setTimeout(() => {
      this.#deadlinePassed = true;
      this.disarm();
      this.#controller.abort(new Error(`no complete answer within ${deadlineMs} ms`));
    }, deadlineMs).unref(); // as AbortSignal.timeout's: a deadline alone keeps no process up
    this.#outer = outer;
    if (outer?.aborted) this.#onOuterAbort();
    else outer?.addEventListener('abort', this.#onOuterAbort, { once: true });
  }

  /** Aborts at the deadline, at a phase's timeout, or with the outer signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The hard deadline ran out. */
  get deadlinePassed(): boolean {
    return this.#deadlinePassed;
  }

  get expired(): PhaseTimeoutError | undefined {
    return this.#expired;
  }

  arm(phase: Phase, ms: number): void {
    if (this.#expired || this.#controller.signal.aborted) return;
    // The same phase again (the next body chunk): restart the timer without a new one.
    if (this.#timer && this.#armed?.phase === phase && this.#armed.ms === ms) {
      this.#timer.refresh();
      return;
    }
    this.disarm();
    if (performance.now() + ms >= this.#deadlineAt) return;
    this.#armed = { phase, ms };
    this.#timer = setTimeout(() => {
      this.#expired = new PhaseTimeoutError(phase, ms);
      this.#controller.abort(this.#expired);
    }, ms);
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armed = undefined;
  }

  /** The request is over: no timer left, nothing held by the outer signal. */
  end(): void {
    this.disarm();
    clearTimeout(this.#deadline);
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }
}
