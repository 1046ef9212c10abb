import PQueue from 'p-queue';
import type { RelayError } from '../errors.js';
import { redact, redactReply } from '../redact.js';
import type { GapRecord, SegmentRecord } from '../spool/journal.js';
import type { Spool } from '../spool/spool.js';
import type { Emit } from '../telemetry/events.js';
import { classify, fatalError, type Verdict } from './classify.js';
import type { CloudApi } from './cloud.js';
import { requestEvent } from './request-event.js';
import type { RetryPacer, RetryPlan } from './retry-pacer.js';
import type { HttpTransport } from './transport.js';

export interface UploaderOptions {
  readonly spool: Spool;
  readonly api: CloudApi;
  readonly transport: HttpTransport;
  readonly uploadTimeoutMs: number;
  /** Requests at once for this camera; 1 keeps segments in order. */
  readonly concurrency: number;
  /** When a transient failure is tried again (shared with registration). */
  readonly retry: RetryPacer;
  readonly emit: Emit;
  /** Runs before the first upload (camera registration); retried by the caller's own policy. */
  readonly beforeFirstUpload?: (signal: AbortSignal) => Promise<void>;
  /** A fatal verdict (401/403, an untrusted TLS certificate): the relay must stop, spool kept. */
  readonly onFatal: (error: RelayError) => void;
}

/** At most this many gaps ride on one segment's header, so headers stay small. */
const MAX_GAPS_PER_HEADER = 16;

/**
 * Delivers spooled segments, oldest first, keeping each on disk until the ingest acknowledges
 * it. A TRANSIENT failure holds the segment's slot and retries it with backoff, so per-camera
 * order survives outages while capture carries on into the spool.
 */
export class Uploader {
  readonly #o: UploaderOptions;
  readonly #queue: PQueue;
  readonly #abort = new AbortController();
  readonly #queued = new Set<number>();
  #ready: Promise<void> | undefined;
  #retrying = new Set<number>();
  #delivered = 0;
  #bytesSent = 0;
  #stopped = false;

  constructor(options: UploaderOptions) {
    this.#o = options;
    this.#queue = new PQueue({ concurrency: options.concurrency });
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

  /** Queue a spooled segment; a segment already queued is not queued twice. */
  enqueue(record: SegmentRecord): void {
    if (this.#stopped || this.#queued.has(record.sequence)) return;
    this.#queued.add(record.sequence);
    this.#queue
      .add(() => this.#deliver(record))
      .catch((error: unknown) => {
        // A local failure (the spool's disk): the segment stays spooled for the next start.
        this.#o.emit({
          type: 'error',
          code: 'ERR_UPLOAD',
          message: `segment ${record.sequence}: ${String(error)}`,
        });
      })
      .finally(() => this.#queued.delete(record.sequence));
  }

  /** Wait until everything queued is delivered, or `timeoutMs` passes; true when all went out. */
  async drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const idle = this.#queue.onIdle().then(() => true as const);
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
    this.#stopped = true;
    this.#queue.clear();
    this.#abort.abort();
    await this.#queue.onIdle();
  }

  async #deliver(record: SegmentRecord): Promise<void> {
    const { spool, api, transport } = this.#o;
    const signal = this.#abort.signal;
    if (this.#o.beforeFirstUpload) {
      this.#ready ??= this.#o.beforeFirstUpload(signal);
      await this.#ready;
    }
    for (let attempt = 1; !signal.aborted; attempt++) {
      // Evicted, rejected or delivered meanwhile, or another request has it: nothing to do.
      if (!spool.beginUpload(record.sequence)) {
        this.#retrying.delete(record.sequence);
        return;
      }
      let retry: RetryPlan | undefined;
      try {
        const gaps = spool.gaps().slice(0, MAX_GAPS_PER_HEADER);
        const request = api.ingest(record, spool.pathOf(record), gaps, this.#o.uploadTimeoutMs, signal);
        const sentAt = performance.now();
        const verdict = classify(await transport.send(request));
        if (signal.aborted) return;
        this.#o.emit(requestEvent('ingest', verdict, (performance.now() - sentAt) / 1000, record.sequence));
        // Settled while still in flight, so eviction cannot take the segment in between.
        retry = await this.#settle(record, verdict, gaps, attempt);
      } finally {
        spool.endUpload(record.sequence);
      }
      if (retry === undefined) return;
      await this.#o.retry.wait(retry, signal);
    }
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
        await spool.delivered(record.sequence, gaps);
        emit({
          type: 'segment',
          phase: 'delivered',
          sequence: record.sequence,
          bytes: record.bytes,
          attempt,
        });
        return undefined;
      case 'auth':
      case 'tls':
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
