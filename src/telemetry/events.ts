import type { LossReason } from '../types.js';

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
  | 'discarded';

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
      durationS?: number;
    }
  | { type: 'error'; code: string; message: string }
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
  | { type: 'progress'; snapshot: StatusSnapshot }
  /** The wall clock stepped against the monotonic clock (seconds, signed). */
  | { type: 'clock'; jumpS: number };

export type StampedEvent = RelayEvent & { ts: string; camera: string };

/** The live numbers a status line or /metrics shows. */
export interface StatusSnapshot {
  state: RelayState;
  uptimeS: number;
  mbps: number;
  fps: number;
  delivered: number;
  retrying: number;
  pending: number;
  evicted: number;
  rejected: number;
  spoolBytes: number;
  bytesSent: number;
  lastError?: string | undefined;
}

export type Listener = (event: StampedEvent) => void;

/** One per process; components get an `Emit` bound to their camera. Telemetry only listens. */
export class EventBus {
  #listeners = new Set<Listener>();

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  forCamera(camera: string): Emit {
    return (event) => {
      const stamped = { ...event, ts: new Date().toISOString(), camera } as StampedEvent;
      for (const listener of this.#listeners) listener(stamped);
    };
  }
}

export type Emit = (event: RelayEvent) => void;
