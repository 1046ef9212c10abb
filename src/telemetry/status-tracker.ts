import type { RelayState, StampedEvent, StatusSnapshot } from './events.js';

/** The live numbers the components do not keep themselves, gathered from events. */
export interface StatusSources {
  pendingCount(): number;
  spoolBytes(): number;
  retrying(): number;
  delivered(): number;
  bytesSent(): number;
  fps(): number;
}

const RATE_WINDOW_MS = 10_000;

/** Builds StatusSnapshots from events plus the components' own counters. */
export class StatusTracker {
  readonly #sources: StatusSources;
  readonly #startedAt = Date.now();
  #state: RelayState = 'starting';
  #evicted = 0;
  #rejected = 0;
  #lastError: string | undefined;
  #sent: { at: number; bytes: number }[] = [];

  constructor(sources: StatusSources) {
    this.#sources = sources;
  }

  get state(): RelayState {
    return this.#state;
  }

  observe(event: StampedEvent): void {
    if (event.type === 'state') this.#state = event.state;
    else if (event.type === 'error') this.#lastError = event.message;
    else if (event.type === 'segment') {
      if (event.phase === 'evicted') this.#evicted++;
      else if (event.phase === 'rejected') this.#rejected++;
      else if (event.phase === 'delivered') this.#sent.push({ at: Date.now(), bytes: event.bytes ?? 0 });
      else if (event.phase === 'retry' && typeof event.reason === 'string') this.#lastError = event.reason;
    }
  }

  snapshot(): StatusSnapshot {
    const now = Date.now();
    this.#sent = this.#sent.filter((s) => now - s.at <= RATE_WINDOW_MS);
    const windowS = Math.min(RATE_WINDOW_MS, now - this.#startedAt) / 1000 || 1;
    const bits = this.#sent.reduce((sum, s) => sum + s.bytes, 0) * 8;
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
    };
  }
}
