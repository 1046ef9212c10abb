import type { RelayState, StampedEvent, StatusSnapshot } from './events.js';

/** The live numbers the components do not keep themselves, gathered from events. */
export interface StatusSources {
  pendingCount(): number;
  spoolBytes(): number;
  spoolUsedBytes(): number;
  spoolMaxBytes(): number;
  /** Wall-clock start (ms) of the oldest undelivered segment, if any. */
  oldestPendingStartMs(): number | undefined;
  retrying(): number;
  delivered(): number;
  bytesSent(): number;
  fps(): number;
}

const RATE_WINDOW_MS = 10_000;

/** Builds one camera's StatusSnapshots from events plus the components' own counters. */
export class StatusTracker {
  readonly camera: string;
  readonly #sources: StatusSources;
  readonly #now: () => number;
  readonly #startedAt: number;
  #state: RelayState = 'starting';
  #evicted = 0;
  #rejected = 0;
  #lastError: string | undefined;
  #lastClosedAt: number | undefined;
  #lastDeliveredAt: number | undefined;
  /** Set by a failed exchange with the ingest (transient, auth), cleared by any answer that works. */
  #ingestFailingSince: number | undefined;
  #sent: { at: number; bytes: number }[] = [];

  /** `now` is the wall clock in ms (tests pass a fake one). */
  constructor(camera: string, sources: StatusSources, now: () => number = Date.now) {
    this.camera = camera;
    this.#sources = sources;
    this.#now = now;
    this.#startedAt = now();
  }

  get state(): RelayState {
    return this.#state;
  }

  observe(event: StampedEvent): void {
    const now = this.#now();
    switch (event.type) {
      case 'state':
        this.#state = event.state;
        return;
      case 'error':
        this.#lastError = event.message;
        return;
      case 'request':
        if (event.outcome === 'transient' || event.outcome === 'auth' || event.outcome === 'proxy-auth') {
          this.#ingestFailingSince ??= now;
          const what = event.request === 'register' ? 'registration' : 'upload';
          this.#lastError = `${what}: ${event.reason ?? `HTTP ${event.status}`}`;
        } else {
          // A refusal of one segment (4xx) is still an ingest that answers.
          this.#ingestFailingSince = undefined;
        }
        return;
      case 'segment':
        if (event.phase === 'evicted') this.#evicted++;
        else if (event.phase === 'rejected') this.#rejected++;
        else if (event.phase === 'closed') this.#lastClosedAt = now;
        else if (event.phase === 'delivered') {
          this.#lastDeliveredAt = now;
          this.#sent.push({ at: now, bytes: event.bytes ?? 0 });
        } else if (event.phase === 'retry' && typeof event.reason === 'string')
          this.#lastError = event.reason;
        return;
      default:
        return;
    }
  }

  snapshot(): StatusSnapshot {
    const now = this.#now();
    this.#sent = this.#sent.filter((s) => now - s.at <= RATE_WINDOW_MS);
    const windowS = Math.min(RATE_WINDOW_MS, now - this.#startedAt) / 1000 || 1;
    const bits = this.#sent.reduce((sum, s) => sum + s.bytes, 0) * 8;
    const oldest = this.#sources.oldestPendingStartMs();
    const since = (at: number | undefined) => (now - (at ?? this.#startedAt)) / 1000;
    return {
      state: this.#state,
      uptimeS: (now - this.#startedAt) / 1000,
      mbps: bits / windowS / 1e6,
      fps: this.#sources.fps(),
      delivered: this.#sources.delivered(),
      retrying: this.#sources.retrying(),
      pending: this.#sources.pendingCount(),
      evicted: this.#evicted,
      rejected: this.#rejected,
      spoolBytes: this.#sources.spoolBytes(),
      bytesSent: this.#sources.bytesSent(),
      lastError: this.#lastError,
      sinceClosedS: since(this.#lastClosedAt),
      sinceDeliveredS: since(this.#lastDeliveredAt),
      closedAny: this.#lastClosedAt !== undefined,
      deliveredAny: this.#lastDeliveredAt !== undefined,
      ingestFailingS: this.#ingestFailingSince === undefined ? undefined : since(this.#ingestFailingSince),
      backlogAgeS: oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000),
      spoolUsedBytes: this.#sources.spoolUsedBytes(),
      spoolMaxBytes: this.#sources.spoolMaxBytes(),
    };
  }
}
