import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type LossReason, UNCAPTURED_REASONS } from '../types.js';
import {
  type Listener,
  PROCESS_CAMERA,
  type StampedEvent,
  type StatusSnapshot,
  type WatchedCamera,
} from './events.js';

export type { WatchedCamera } from './events.js';

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag, handles), from the first scrape on; on by default. */
  readonly defaultMetrics?: boolean;
  /** Monotonic clock in ms, for close→ack latency (tests pass a fake one). */
  readonly now?: () => number;
}

/** Every loss reason, so each `lost_seconds` series exists (at 0) from the start. */
const LOSS_REASONS = {
  evicted: true,
  'disk-full': true,
  rejected: true,
  unreadable: true,
  'write-failed': true,
  unsalvageable: true,
  stale: true,
} as const satisfies Record<LossReason, true>;

/** Losses to spool pressure; the other reasons are drops of a segment that could not be sent. */
const EVICTION_REASONS: ReadonlySet<string> = new Set<LossReason>(['evicted', 'disk-full']);

/**
 * prom-client's gauges that end in `_total`, which Prometheus reserves for counters (`promtool
 * check metrics` flags them); each is the sum of its by-type sibling (`nodejs_active_handles`).
 */
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const LATENCY_BUCKETS_S = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 900, 3600];
const REQUEST_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The relay's Prometheus metrics, on a registry of its own (not prom-client's global one), so
 * tests and several cameras stay independent. Counters follow the event bus; gauges are read
 * from the watched cameras at scrape time. The one file that imports prom-client.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly #watched = new Map<string, WatchedCamera>();
  readonly #now: () => number;
  /** When each not yet settled segment closed (`camera\0sequence` → ms), for close→ack latency. */
  readonly #closedAt = new Map<string, number>();

  readonly #closed = this.#counter('segments_closed_total', 'Segments ffmpeg closed and the spool kept.');
  readonly #delivered = this.#counter('segments_delivered_total', 'Segments the ingest acknowledged.');
  readonly #rejected = this.#counter(
    'segments_rejected_total',
    'Segments the ingest refused for good (4xx other than 401/403), kept in rejected/.',
  );
  readonly #evicted = this.#counter(
    'segments_evicted_total',
    'Pending segments evicted to keep the spool bound (evicted) or on a full disk (disk-full).',
    ['reason'],
  );
  readonly #dropped = this.#counter(
    'segments_dropped_total',
    'Segments lost for another reason: file unreadable, never written, partial with no video.',
    ['reason'],
  );
  readonly #lostSeconds = this.#counter(
    'lost_seconds_total',
    'Seconds of video lost, by reason: the loss ledger as a metric.',
    ['reason'],
  );
  readonly #uncapturedSeconds = this.#counter(
    'uncaptured_seconds_total',
    'Seconds with no video because the relay or its ffmpeg was down, by reason (never captured, as opposed to lost).',
    ['reason'],
  );
  readonly #uploadAttempts = this.#counter(
    'upload_attempts_total',
    'Segment upload attempts by outcome class (ok, transient, auth, reject, unreadable).',
    ['outcome'],
  );
  readonly #registrationAttempts = this.#counter(
    'registration_attempts_total',
    'Camera registration attempts by outcome class.',
    ['outcome'],
  );
  readonly #bytesDelivered = this.#counter(
    'delivered_bytes_total',
    'Bytes of segments the ingest acknowledged.',
  );
  readonly #ffmpegRestarts = this.#counter(
    'ffmpeg_restarts_total',
    'ffmpeg restarts (exit, failure or stall).',
  );
  readonly #clockJumps = this.#counter('clock_jumps_total', 'Wall-clock jumps seen between segments.');
  readonly #errors = this.#counter('errors_total', 'Error events, by error code.', ['code']);
  readonly #closeToAck = new Histogram({
    name: 'trio_relay_close_to_ack_seconds',
    help: 'From a segment closing to the ingest acknowledging it (segments closed in this run).',
    labelNames: ['camera'],
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly #requestDuration = new Histogram({
    name: 'trio_relay_request_duration_seconds',
    help: 'Duration of HTTP requests to the ingest, by request (register, ingest) and outcome class.',
    labelNames: ['camera', 'request', 'outcome'],
    buckets: REQUEST_BUCKETS_S,
    registers: [this.registry],
  });

  /** Node's process metrics, registered at the first scrape (see metrics()). */
  #defaultMetrics: boolean;

  constructor(options: MetricsOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#defaultMetrics = options.defaultMetrics ?? true;
    this.#gauge('spool_pending_bytes', 'Bytes of segments waiting for delivery.', (s) => s.spoolBytes);
    this.#gauge('spool_pending_segments', 'Segments waiting for delivery.', (s) => s.pending);
    this.#gauge(
      'spool_used_bytes',
      'Bytes counted against --max-spool-mb (pending segments and rejected/).',
      (s) => s.spoolUsedBytes,
    );
    this.#gauge('spool_limit_bytes', 'The spool bound, --max-spool-mb.', (s) => s.spoolMaxBytes);
    this.#gauge(
      'backlog_age_seconds',
      'Age of the oldest undelivered segment (now minus its start); 0 when nothing is pending.',
      (s) => s.backlogAgeS,
    );
    this.#gauge(
      'last_closed_age_seconds',
      'Seconds since the last segment closed (since the start when none has yet).',
      (s) => s.sinceClosedS,
    );
    this.#gauge(
      'last_delivered_age_seconds',
      'Seconds since the last segment was delivered (since the start when none has yet).',
      (s) => s.sinceDeliveredS,
    );
  }

  /** Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    // Started by the first scrape, not at start-up: their event-loop monitor wakes the process
    // every 10 ms, which a relay whose --metrics-port nobody scrapes should not pay.
    if (this.#defaultMetrics) {
      this.#defaultMetrics = false;
      collectDefaultMetrics({ register: this.registry });
      for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Read this camera's gauges at scrape time until the returned function is called. */
  watch(camera: WatchedCamera): () => void {
    const labels = { camera: camera.camera };
    this.#watched.set(camera.camera, camera);
    // Series exist from the start, so rate() and increase() see the first events.
    for (const counter of [
      this.#closed,
      this.#delivered,
      this.#rejected,
      this.#bytesDelivered,
      this.#ffmpegRestarts,
      this.#clockJumps,
    ])
      counter.inc(labels, 0);
    for (const reason of Object.keys(LOSS_REASONS)) this.#lostSeconds.inc({ ...labels, reason }, 0);
    for (const reason of UNCAPTURED_REASONS) this.#uncapturedSeconds.inc({ ...labels, reason }, 0);
    return () => {
      if (this.#watched.get(camera.camera) !== camera) return;
      this.#watched.delete(camera.camera);
    };
  }

  /** The bus listener; it only counts, and never throws for an event it does not know. */
  readonly listener: Listener = (event) => this.#observe(event);

  #observe(event: StampedEvent): void {
    const camera = event.camera;
    // Every series is one camera's: what the process says itself is only logged.
    if (camera === PROCESS_CAMERA) return;
    switch (event.type) {
      case 'segment': {
        const key = `${camera}\0${event.sequence}`;
        if (event.phase === 'closed') {
          this.#closed.inc({ camera });
          this.#closedAt.set(key, this.#now());
          if (event.clockJumpS !== undefined) this.#clockJumps.inc({ camera });
        } else if (event.phase === 'delivered') {
          this.#delivered.inc({ camera });
          this.#bytesDelivered.inc({ camera }, event.bytes ?? 0);
          const closedAt = this.#closedAt.get(key);
          if (closedAt !== undefined) this.#closeToAck.observe({ camera }, (this.#now() - closedAt) / 1000);
          this.#closedAt.delete(key);
        } else if (event.phase === 'rejected') {
          this.#rejected.inc({ camera });
          this.#lostSeconds.inc({ camera, reason: 'rejected' }, event.durationS ?? 0);
          this.#closedAt.delete(key);
        } else if (event.phase === 'evicted') {
          const reason = String(event.reason ?? 'evicted');
          (EVICTION_REASONS.has(reason) ? this.#evicted : this.#dropped).inc({ camera, reason });
          this.#lostSeconds.inc({ camera, reason }, event.durationS ?? 0);
          this.#closedAt.delete(key);
        } else if (event.phase === 'uncaptured') {
          this.#uncapturedSeconds.inc({ camera, reason: String(event.reason) }, event.durationS ?? 0);
        }
        return;
      }
      case 'request':
        (event.request === 'ingest' ? this.#uploadAttempts : this.#registrationAttempts).inc({
          camera,
          outcome: event.outcome,
        });
        this.#requestDuration.observe(
          { camera, request: event.request, outcome: event.outcome },
          event.durationS,
        );
        return;
      case 'ffmpeg':
        if (event.phase === 'restarting') this.#ffmpegRestarts.inc({ camera });
        return;
      case 'error':
        this.#errors.inc({ camera, code: event.code });
        return;
      default:
        return;
    }
  }

  #counter(name: string, help: string, extraLabels: string[] = []): Counter<string> {
    return new Counter({
      name: `trio_relay_${name}`,
      help,
      labelNames: ['camera', ...extraLabels],
      registers: [this.registry],
    });
  }

  #gauge(name: string, help: string, read: (s: StatusSnapshot) => number): void {
    const watched = this.#watched;
    new Gauge({
      name: `trio_relay_${name}`,
      help,
      labelNames: ['camera'],
      registers: [this.registry],
      collect() {
        // Cameras that stopped keep no stale value.
        this.reset();
        for (const [camera, source] of watched) this.set({ camera }, read(source.snapshot()));
      },
    });
  }
}
