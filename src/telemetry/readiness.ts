import type { StatusSnapshot } from './events.js';

/** The limits readiness is judged by (from the relay's config). */
export interface ReadinessLimits {
  /** No closed segment for this long: the camera is down (the stall timeout, 3 segments by default). */
  readonly cameraDownAfterS: number;
  /** --ready-max-backlog: the oldest undelivered segment may be this old. */
  readonly maxBacklogS: number;
  /** Share of --max-spool-mb above which the spool counts as near its bound. */
  readonly spoolNearRatio: number;
}

export const SPOOL_NEAR_RATIO = 0.9;

export type NotReadyCode =
  | 'starting'
  | 'stopping'
  | 'camera-down'
  | 'ingest-failing'
  | 'backlog-age'
  | 'spool-near-bound';

export interface NotReadyReason {
  readonly camera: string;
  readonly code: NotReadyCode;
  readonly message: string;
}

/** One camera's verdict. */
export interface CameraReadiness {
  readonly camera: string;
  readonly ready: boolean;
  readonly reasons: readonly NotReadyReason[];
}

/** The relay's verdict: ready when every camera is; `reasons` are all cameras' together. */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly NotReadyReason[];
  readonly cameras: readonly CameraReadiness[];
}

const ENDED = new Set(['draining', 'stopped', 'failed']);

/**
 * Whether one camera is doing its job: segments are being closed and delivered and the backlog
 * is young. A pure function of the snapshot, so tests drive it with made-up numbers.
 */
export function cameraReadiness(camera: string, s: StatusSnapshot, limits: ReadinessLimits): CameraReadiness {
  const reasons: NotReadyReason[] = [];
  const add = (code: NotReadyCode, message: string) => reasons.push({ camera, code, message });
  if (ENDED.has(s.state)) add('stopping', `the relay is ${s.state}`);
  else {
    if (s.sinceClosedS > limits.cameraDownAfterS) {
      add(
        'camera-down',
        s.closedAny
          ? `no segment closed for ${whole(s.sinceClosedS)} s (limit ${whole(limits.cameraDownAfterS)} s)`
          : `no segment closed in the ${whole(s.sinceClosedS)} s since the start (limit ${whole(limits.cameraDownAfterS)} s)`,
      );
    }
    if (s.ingestFailingS !== undefined) {
      add(
        'ingest-failing',
        `the ingest has been failing for ${whole(s.ingestFailingS)} s${s.lastError ? `: ${s.lastError}` : ''}`,
      );
    }
    if (s.backlogAgeS > limits.maxBacklogS) {
      add(
        'backlog-age',
        `the oldest undelivered segment is ${whole(s.backlogAgeS)} s old (limit ${whole(limits.maxBacklogS)} s, ${s.pending} pending)`,
      );
    }
    if (s.spoolMaxBytes > 0 && s.spoolUsedBytes > limits.spoolNearRatio * s.spoolMaxBytes) {
      add(
        'spool-near-bound',
        `the spool holds ${mb(s.spoolUsedBytes)} of its ${mb(s.spoolMaxBytes)} bound: the oldest segments will soon be evicted`,
      );
    }
    if (reasons.length === 0 && !(s.closedAny && s.deliveredAny)) {
      add('starting', s.closedAny ? 'no segment delivered yet' : 'no segment closed yet');
    }
  }
  return { camera, ready: reasons.length === 0, reasons };
}

/** All cameras: ready only when every one is; reasons of all are listed, and each camera's own. */
export function combineReadiness(cameras: readonly CameraReadiness[]): Readiness {
  if (cameras.length === 0) {
    return {
      ready: false,
      reasons: [{ camera: '', code: 'starting', message: 'the relay is starting (spool recovery, ffmpeg)' }],
      cameras: [],
    };
  }
  const reasons = cameras.flatMap((c) => c.reasons);
  return { ready: reasons.length === 0, reasons, cameras };
}

function whole(seconds: number): number {
  return Math.round(seconds);
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
