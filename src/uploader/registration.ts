import type { RelayError } from '../errors.js';
import type { Emit } from '../telemetry/events.js';
import type { SourceKind } from '../types.js';
import { classify, fatalError } from './classify.js';
import type { CloudApi } from './cloud.js';
import { requestEvent } from './request-event.js';
import type { RetryPacer, RetryPlan } from './retry-pacer.js';
import type { HttpTransport } from './transport.js';

/**
 * Where a camera's registration stands: `pending` until the ingest answers; `registered` when it
 * accepted; `refused` when it said no for good (segments go anyway).
 */
export type RegistrationState = 'pending' | 'registered' | 'refused';

export interface RegistrationOptions {
  readonly camera: { readonly cameraId: string; readonly name: string; readonly kind: SourceKind };
  readonly api: CloudApi;
  readonly transport: HttpTransport;
  readonly uploadTimeoutMs: number;
  /** The process's pacer: a transient failure is tried again by its plan, never by a loop here. */
  readonly retry: RetryPacer;
  readonly emit: Emit;
  /** A refused key or an untrusted certificate: the relay must stop. */
  readonly onFatal: (error: RelayError) => void;
}

/** A registration that keeps failing is said again this often. */
const STILL_FAILING_EVERY_MS = 60_000;

/**
 * POST /api/cameras, as the first step of a camera's first delivery: one request at a time,
 * shared by every attempt that needs it, said once when it fails and again now and then while
 * it keeps failing.
 */
export class Registration {
  readonly #o: RegistrationOptions;
  #state: RegistrationState = 'pending';
  /** The request in flight: concurrent attempts share it. */
  #inFlight: Promise<RetryPlan | undefined> | undefined;
  #attempts = 0;
  #startedAt = 0;
  #saidAt = 0;

  constructor(options: RegistrationOptions) {
    this.#o = options;
  }

  get state(): RegistrationState {
    return this.#state;
  }

  /**
   * Register unless the ingest answered already. Resolves with how to wait when it is to be tried
   * again; otherwise `state` says the outcome (still `pending` after a fatal verdict or an abort).
   */
  ensure(signal: AbortSignal): Promise<RetryPlan | undefined> {
    if (this.#state !== 'pending') return Promise.resolve(undefined);
    this.#inFlight ??= this.#register(signal).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /**
   * One POST /api/cameras. A refused key or an untrusted certificate is fatal (the same verdict
   * as for uploads), another refusal only a warning: segments go anyway.
   */
  async #register(signal: AbortSignal): Promise<RetryPlan | undefined> {
    const { api, transport, emit, camera } = this.#o;
    const attempt = ++this.#attempts;
    if (attempt === 1) this.#startedAt = this.#saidAt = Date.now();
    const request = { ...api.register(camera.name, camera.kind, this.#o.uploadTimeoutMs), signal };
    const sentAt = performance.now();
    const verdict = classify(await transport.send(request));
    if (signal.aborted) return undefined;
    this.#o.retry.observe(verdict);
    emit(requestEvent('register', verdict, (performance.now() - sentAt) / 1000));
    const fatal = fatalError(verdict, request.url);
    if (fatal) {
      this.#o.onFatal(fatal);
      return undefined;
    }
    if (verdict.class === 'ok') {
      this.#state = 'registered';
      emit({ type: 'log', level: 'info', message: `camera ${camera.cameraId} registered` });
      return undefined;
    }
    if (verdict.class !== 'transient') {
      this.#state = 'refused';
      const status = 'status' in verdict ? ` (HTTP ${verdict.status})` : '';
      emit({ type: 'log', level: 'warn', message: `registration refused${status}; sending segments anyway` });
      return undefined;
    }
    const message = `registration failed (${verdict.reason}), retrying`;
    if (attempt === 1) emit({ type: 'error', code: 'ERR_REGISTER', message });
    else if (Date.now() - this.#saidAt >= STILL_FAILING_EVERY_MS) {
      // Not one line then silence: a registration that keeps failing is said again, now and then.
      this.#saidAt = Date.now();
      const forS = Math.round((this.#saidAt - this.#startedAt) / 1000);
      emit({
        type: 'log',
        level: 'warn',
        message: `registration still failing after ${attempt} attempts in ${forS} s (${verdict.reason}); segments wait in the spool`,
      });
    } else emit({ type: 'log', level: 'debug', message });
    return this.#o.retry.plan(verdict, attempt);
  }
}
