import { AuthError, CaptureError, ProxyAuthError, RelayError, TlsError } from '../errors.js';

/** How one camera ended without an error. */
export type CameraEnd = 'finished' | 'stopped';

/** How one camera's run ended with an error, by what went wrong. */
export type CameraFailure =
  | 'auth-refused'
  | 'ingest-untrusted'
  | 'proxy-refused'
  | 'capture-failed'
  | 'failed';

/** One camera's run, start to end: the source finished, it was stopped, or it failed (and why). */
export type CameraOutcome =
  | { readonly camera: string; readonly kind: CameraEnd }
  | { readonly camera: string; readonly kind: CameraFailure; readonly error: RelayError };

export type FailedCamera = Extract<CameraOutcome, { error: RelayError }>;

/** What a fleet's run came to; src/cli/ turns it into the process's exit code. */
export interface FleetReport {
  /** Each camera's outcome, in the order they ended (a camera restarted by a reload: each run). */
  readonly cameras: readonly CameraOutcome[];
  /** A failure every camera shares (the key, the ingest's certificate, the proxy) that stopped them all. */
  readonly stoppedAllBy: FailedCamera | undefined;
  /** One camera from --source: its failure is the process's error. */
  readonly single: boolean;
}

/** A camera's failure, by the error that ended it (any thrown value becomes a RelayError). */
export function failureOf(camera: string, thrown: unknown): FailedCamera {
  const error =
    thrown instanceof RelayError
      ? thrown
      : new RelayError('ERR_UNEXPECTED', `camera ${camera}: ${String(thrown)}`, { cause: thrown });
  return { camera, kind: failureKind(error), error };
}

function failureKind(error: RelayError): CameraFailure {
  if (error instanceof AuthError) return 'auth-refused';
  if (error instanceof TlsError) return 'ingest-untrusted';
  if (error instanceof ProxyAuthError) return 'proxy-refused';
  if (error instanceof CaptureError) return 'capture-failed';
  return 'failed';
}

export function isFailure(outcome: CameraOutcome): outcome is FailedCamera {
  return 'error' in outcome;
}

/** One key, one proxy and one ingest for all: every camera would fail the same way. */
export function isSharedFailure(outcome: CameraOutcome): boolean {
  return (
    outcome.kind === 'auth-refused' || outcome.kind === 'ingest-untrusted' || outcome.kind === 'proxy-refused'
  );
}
