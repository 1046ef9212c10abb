import type { ErrorEventCode } from '../error-codes.js';
import { redact } from '../redact.js';
import type { LossReason } from '../types.js';

/** How one HTTP exchange with the ingest ended (the uploader's classification classes). */
export type RequestOutcome =
  | 'ok'
  | 'transient'
  | 'auth'
  | 'proxy-auth'
  | 'tls'
  | 'unsendable'
  | 'reject'
  | 'unreadable';

export type RelayState =
  | 'starting'
  | 'recovering'
  | 'connecting'
  | 'relaying'
  | 'reconnecting'
  | 'draining'
  | 'stopped'
  | 'failed';

export type SegmentPhase =
  | 'closed'
  | 'delivered'
  | 'retry'
  | 'evicted'
  | 'rejected'
  | 'adopted'
  | 'salvaged'
  | 'discarded'
  /** No video for `durationS` before this sequence, for `reason` (the relay or ffmpeg was down). */
  | 'uncaptured';

/** Everything the relay reports; the NDJSON schema is exactly this union plus `ts` and `camera`. */
export type RelayEvent =
  | { type: 'state'; state: RelayState; detail?: string }
  | {
      type: 'segment';
      phase: SegmentPhase;
      sequence: number;
      bytes?: number;
      status?: number;
      attempt?: number;
      delayMs?: number;
      reason?: LossReason | string;
      /** Seconds of video the segment holds: on `closed`, and on a loss (`evicted`, `rejected`). */
      durationS?: number;
      /** On `closed`: the wall clock jumped this many seconds just before this segment. */
      clockJumpS?: number;
    }
  | {
      /** One HTTP exchange with the ingest, after it was classified (not sent when aborted). */
      type: 'request';
      request: 'register' | 'ingest';
      outcome: RequestOutcome;
      durationS: number;
      sequence?: number;
      status?: number;
      reason?: string;
    }
  | { type: 'error'; code: ErrorEventCode; message: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string }
  | {
      type: 'ffmpeg';
      phase: 'started' | 'exited' | 'stalled' | 'restarting';
      pid?: number;
      exitCode?: number | null;
      signal?: string | null;
      delayMs?: number;
      stderr?: string[];
    }
  | { type: 'progress'; snapshot: StatusSnapshot };

/** `camera` is the camera's id, or PROCESS_CAMERA ('') for what the process as a whole says. */
export type StampedEvent = RelayEvent & { ts: string; camera: string };

/** The `camera` of a process-level event (no camera's own): NDJSON leaves the field out. */
export const PROCESS_CAMERA = '';

/** What the process itself may say, not on behalf of one camera (the NDJSON schema allows these without `camera`). */
export type ProcessEvent = Extract<RelayEvent, { type: 'log' | 'error' }>;

/** The live numbers a status line or /metrics shows. */
export interface StatusSnapshot {
  state: RelayState;
  uptimeS: number;
  mbps: number;
  fps: number;
  delivered: number;
  retrying: number;
  pending: number;
  /**
   * Segments lost, whatever the reason (the `evicted` phase of the NDJSON contract is every loss:
   * the spool bound, a full disk, an unreadable or unwritable file); shown as `lost N`.
   */
  evicted: number;
  rejected: number;
  spoolBytes: number;
  bytesSent: number;
  lastError?: string | undefined;
  /** Seconds since the last segment closed, or since the relay started when none has yet. */
  sinceClosedS: number;
  /** Seconds since the last delivery, or since the relay started when none has yet. */
  sinceDeliveredS: number;
  closedAny: boolean;
  deliveredAny: boolean;
  /** The ingest's last answer was a failure (transient or auth): since how many seconds. */
  ingestFailingS?: number | undefined;
  /** Age of the oldest undelivered segment (now − its start), 0 when the spool is empty. */
  backlogAgeS: number;
  /** Bytes counted against --max-spool-mb (pending segments and rejected/), and the bound. */
  spoolUsedBytes: number;
  spoolMaxBytes: number;
}

/** A camera whose numbers are read when needed: status lines, gauges, readiness (the StatusTracker is one). */
export interface WatchedCamera {
  readonly camera: string;
  snapshot(): StatusSnapshot;
}

export type Listener = (event: StampedEvent) => void;

/** One per process; components get an `Emit` bound to their camera. Telemetry only listens. */
export class EventBus {
  #listeners = new Set<Listener>();
  #listenerFailed = false;

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  forCamera(camera: string): Emit {
    return this.#emitter(camera);
  }

  /** For the process as a whole (metrics endpoint, config reload): only logs and errors. */
  forProcess(): (event: ProcessEvent) => void {
    return this.#emitter(PROCESS_CAMERA);
  }

  #emitter(camera: string): Emit {
    return (event) => {
      const stamped = { ...event, ts: new Date().toISOString(), camera } as StampedEvent;
      for (const listener of this.#listeners) {
        // Listeners never throw into the pipeline: a broken status line must not stop a delivery.
        try {
          listener(stamped);
        } catch (error) {
          this.#onListenerError(error);
        }
      }
    };
  }

  /** Said once on stderr, then quiet: telemetry failing is no reason to flood the log. */
  #onListenerError(error: unknown): void {
    if (this.#listenerFailed) return;
    this.#listenerFailed = true;
    process.stderr.write(
      redact(`trio-relay: a telemetry listener failed (later failures not shown): ${String(error)}\n`),
    );
  }
}

export type Emit = (event: RelayEvent) => void;
