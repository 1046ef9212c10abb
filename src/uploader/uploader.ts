import { backoffDelay, sleep } from '../backoff.js';
import type { RelayError } from '../errors.js';
import { redact, redactReply } from '../redact.js';
import type { GapRecord, SegmentRecord } from '../spool/journal.js';
import type { DeliverySpool } from '../spool/spool.js';
import type { Emit } from '../telemetry/events.js';
import type { SourceKind } from '../types.js';
import { classify, fatalError, type Verdict } from './classify.js';
import type { CloudApi } from './cloud.js';
import { Registration, type RegistrationState } from './registration.js';
import { requestEvent } from './request-event.js';
import {
  answersAgain,
  PROBE_INTERVAL_MS,
  type Probe,
  type RetryPacer,
  type RetryPlan,
} from './retry-pacer.js';
import type { HttpTransport, Pace } from './transport.js';
import type { PoolMember, UploadPool } from './upload-pool.js';
import type { UploadJob } from './upload-scheduler.js';

export interface UploaderOptions {
  readonly spool: DeliverySpool;
  readonly api: CloudApi;
  readonly transport: HttpTransport;
  readonly uploadTimeoutMs: number;
  /** The process's one upload pool: this camera takes a seat in it. */
  readonly pool: UploadPool;
  /**
   * When a transient failure is tried again (registration and segments alike): the process's
   * one pacer, told every verdict, so a single probe serves every camera during an outage.
   */
  readonly retry: RetryPacer;
  readonly emit: Emit;
  /** Register the camera (POST /api/cameras) as the first step of its first delivery. */
  readonly registration?: { readonly cameraId: string; readonly name: string; readonly kind: SourceKind };
  /** A fatal verdict (401/403, an untrusted TLS certificate): the relay must stop, spool kept. */
  readonly onFatal: (error: RelayError) => void;
}

/** At most this many gaps ride on one segment's header, so headers stay small. */
const MAX_GAPS_PER_HEADER = 16;
/** A local failure is tried again after this, doubling up to the cap. */
const LOCAL_RETRY_BASE_MS = 1000;
const LOCAL_RETRY_CAP_MS = 60_000;

/**
 * One camera's delivery: its seat in the upload pool and what an attempt does. Each spooled
 * segment stays on disk until the ingest acknowledges it; a TRANSIENT failure keeps the
 * segment's place and retries it with the pacer's backoff, so per-camera order survives
 * outages while capture carries on into the spool. Registration is the first step of the
 * first attempt and is retried by the same pacer, never by a loop of its own.
 */
export class Uploader {
  readonly #o: UploaderOptions;
  readonly #member: PoolMember;
  readonly #abort = new AbortController();
  /** Attempt state only: which segments wait is the spool's to say (its queue). */
  readonly #attempts = new Map<number, number>();
  readonly #retrying = new Set<number>();
  /** Segments whose local failure was said already. */
  readonly #localFailures = new Set<number>();
  readonly #registration: Registration | undefined;
  /**
   * Deliveries the ingest acknowledged whose journal record and file removal are under way. The
   * pool's slot does not wait for them (an fdatasync per segment was a tenth of a drain's time);
   * drain() and stop() do, so the camera's spool closes on a journal that has them all.
   */
  readonly #committing = new Set<Promise<void>>();
  #delivered = 0;
  #bytesSent = 0;
  /** The pacer's episode in which this camera's segment found the ingest down. */
  #faultEpisode = -1;
  /** A HEAD on this camera's ingest path, when the pacer asks on its behalf. */
  readonly #probe: Probe;

  constructor(options: UploaderOptions) {
    this.#o = options;
    this.#registration =
      options.registration &&
      new Registration({
        camera: options.registration,
        api: options.api,
        transport: options.transport,
        uploadTimeoutMs: options.uploadTimeoutMs,
        retry: options.retry,
        emit: options.emit,
        onFatal: options.onFatal,
      });
    const probeTimeoutMs = Math.min(PROBE_INTERVAL_MS, options.uploadTimeoutMs);
    this.#probe = async (signal) =>
      answersAgain(await options.transport.send(options.api.probe(probeTimeoutMs, signal)));
    // From here the pool asks the spool for this camera's segments: those waiting now (adopted)
    // and each one capture closes.
    this.#member = options.pool.join(
      options.registration?.cameraId ?? '',
      {
        attempt: (job, pace) =>
          this.#attempt(job, pace).catch((error: unknown) => this.#localFailure(job, error)),
      },
      options.spool.queue,
    );
  }

  get delivered(): number {
    return this.#delivered;
  }
  get bytesSent(): number {
    return this.#bytesSent;
  }
  get retrying(): number {
    return this.#retrying.size;
  }
  /** Where the camera's registration stands; undefined when it is not registered at all. */
  get registration(): RegistrationState | undefined {
    return this.#registration?.state;
  }

  /** Wait until everything spooled is delivered, or `timeoutMs` passes; true when all went out. */
  async drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const idle = this.#member.idle().then(async () => {
      await this.#committed();
      return this.#member.size === 0;
    });
    // setTimeout cannot wait past 2^31 ms (it would fire at once): no timer for "no limit".
    if (!Number.isFinite(timeoutMs)) return idle;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([idle, timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** Stop at once: abort requests and backoff waits; whatever is left stays in the spool. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#member.leave();
    await this.#committed();
  }

  async #committed(): Promise<void> {
    while (this.#committing.size > 0) await Promise.all(this.#committing);
  }

  /** Record a delivery in the spool without holding the pool's slot; a failure is said, not thrown. */
  #commit(record: SegmentRecord, gaps: readonly GapRecord[]): void {
    // The spool takes the segment out of its index at once (nothing can send or evict it again);
    // the journal line and the unlink follow. A crash before the line is on disk sends the
    // segment again with the same key after the restart: the ingest answers it as a duplicate.
    const committing = this.#o.spool.delivered(record.sequence, gaps).catch((error: unknown) => {
      this.#o.emit({
        type: 'error',
        code: 'ERR_UPLOAD',
        message: `segment ${record.sequence} was delivered but the spool could not record it: ${String(error)}; a restart may send it again (the ingest sees a duplicate key)`,
      });
    });
    this.#committing.add(committing);
    void committing.finally(() => this.#committing.delete(committing));
  }

  async #attempt(job: UploadJob, pace: Pace | undefined): Promise<(() => Promise<void>) | undefined> {
    const signal = this.#abort.signal;
    if (signal.aborted) return undefined;
    const { retry } = this.#o;
    // The ingest is away and this camera found it so: its segments wait for the probe.
    if (retry.away && retry.episode === this.#faultEpisode) return () => retry.untilBack(signal);
    const registration = this.#registration;
    if (registration?.state === 'pending') {
      const plan = await registration.ensure(signal);
      if (signal.aborted) return undefined;
      if (plan) return this.#afterWait(job.sequence, () => this.#retryWait(plan, signal));
      // Still pending: the verdict was fatal, and the relay stops.
      if (registration.state === 'pending') return undefined;
    }
    const { spool, api, transport } = this.#o;
    // Evicted, rejected or delivered since it was handed out: nothing to do.
    const record = spool.beginUpload(job.sequence);
    if (!record) return this.#forget(job.sequence);
    let retryPlan: RetryPlan | undefined;
    try {
      const attempt = (this.#attempts.get(record.sequence) ?? 0) + 1;
      this.#attempts.set(record.sequence, attempt);
      const gaps = spool.gaps().slice(0, MAX_GAPS_PER_HEADER);
      const request = api.ingest(record, spool.pathOf(record), gaps, this.#o.uploadTimeoutMs, signal, pace);
      const sentAt = performance.now();
      const verdict = classify(await transport.send(request));
      if (signal.aborted) return undefined;
      retry.observe(verdict);
      this.#o.emit(requestEvent('ingest', verdict, (performance.now() - sentAt) / 1000, record.sequence));
      // Settled while still in flight, so eviction cannot take the segment in between.
      retryPlan = await this.#settle(record, verdict, gaps, attempt);
    } finally {
      spool.endUpload(record.sequence);
    }
    if (retryPlan === undefined) return this.#forget(record.sequence);
    const plan = retryPlan;
    return this.#afterWait(record.sequence, () => this.#retryWait(plan, signal));
  }

  /** Sit out a plan; a fault of the ingest marks this camera as one that holds its segments. */
  #retryWait(plan: RetryPlan, signal: AbortSignal): Promise<void> {
    const waited = this.#o.retry.wait(plan, signal, this.#probe);
    if (plan.probe) this.#faultEpisode = this.#o.retry.episode;
    return waited;
  }

  /**
   * A local failure (the spool's disk, say a journal that cannot be written): said once per
   * segment, and the segment is tried again later in this run — it stays spooled meanwhile.
   */
  #localFailure(job: UploadJob, error: unknown): () => Promise<void> {
    const attempt = this.#attempts.get(job.sequence) ?? 1;
    if (!this.#localFailures.has(job.sequence)) {
      this.#localFailures.add(job.sequence);
      this.#o.emit({
        type: 'error',
        code: 'ERR_UPLOAD',
        message: `segment ${job.sequence}: ${String(error)}; kept in the spool, tried again`,
      });
    }
    const delayMs = backoffDelay(
      { baseMs: LOCAL_RETRY_BASE_MS, capMs: LOCAL_RETRY_CAP_MS, retryAfterCapMs: 0 },
      attempt,
    );
    return this.#afterWait(job.sequence, () =>
      sleep(Math.max(LOCAL_RETRY_BASE_MS, delayMs), this.#abort.signal),
    );
  }

  /** A wait, after which a segment the spool no longer holds (evicted meanwhile) is forgotten. */
  #afterWait(sequence: number, wait: () => Promise<void>): () => Promise<void> {
    return async () => {
      await wait();
      // Its spool offers it no more: nothing of it is kept here either.
      if (!this.#o.spool.holds(sequence)) this.#forget(sequence);
    };
  }

  #forget(sequence: number): undefined {
    this.#localFailures.delete(sequence);
    this.#attempts.delete(sequence);
    this.#retrying.delete(sequence);
    return undefined;
  }

  /** Act on one attempt's verdict; returns how to wait when the segment is to be tried again. */
  async #settle(
    record: SegmentRecord,
    verdict: Verdict,
    gaps: readonly GapRecord[],
    attempt: number,
  ): Promise<RetryPlan | undefined> {
    const { spool, api, emit } = this.#o;
    if (verdict.class !== 'transient') this.#retrying.delete(record.sequence);
    switch (verdict.class) {
      case 'ok':
        this.#delivered++;
        this.#bytesSent += record.bytes;
        this.#commit(record, gaps);
        emit({
          type: 'segment',
          phase: 'delivered',
          sequence: record.sequence,
          bytes: record.bytes,
          attempt,
        });
        return undefined;
      case 'auth':
      case 'proxy-auth':
      case 'tls':
      case 'unsendable':
        this.#o.onFatal(fatalError(verdict, api.ingestUrl)!);
        return undefined;
      case 'reject':
        emit({
          type: 'log',
          level: 'warn',
          message: `segment ${record.sequence} rejected with HTTP ${verdict.status}; kept in rejected/: ${redactReply(verdict.body).slice(0, 200)}`,
        });
        await spool.reject(record.sequence, verdict.status, verdict.body);
        return undefined;
      case 'unreadable':
        await spool.drop(record.sequence, 'unreadable');
        return undefined;
      case 'transient': {
        this.#retrying.add(record.sequence);
        const plan = this.#o.retry.plan(verdict, attempt);
        emit({
          type: 'segment',
          phase: 'retry',
          sequence: record.sequence,
          attempt,
          delayMs: plan.delayMs,
          reason: redact(verdict.reason),
        });
        return plan;
      }
    }
  }
}
