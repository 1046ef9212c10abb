import { type BackoffPolicy, backoffDelay } from '../backoff.js';

/** The supervisor's count of ffmpeg runs gone wrong in a row. */
export interface RestartCount {
  /** Runs in a row that failed (a run that closed a segment counts as the first of a new row). */
  readonly failures: number;
  /** Runs in a row the camera refused the credentials of. */
  readonly refusals: number;
}

export interface RestartPolicy {
  readonly restartBackoff: BackoffPolicy;
  /** Slower, for a refused password: the camera may lock the account. */
  readonly authBackoff: BackoffPolicy;
  readonly maxRestarts: number;
}

/** After an ffmpeg run ended badly: the new count, the wait before the next run, or giving up. */
export interface RestartDecision extends RestartCount {
  readonly delayMs: number;
  /** More failures in a row than --max-restarts: capture fails. */
  readonly giveUp: boolean;
}

/**
 * The restart decision after an ffmpeg run that did not end the capture: a run that closed a
 * segment starts the count again; a camera refusing the credentials waits at least the auth
 * backoff's base, the rest back off with jitter.
 */
export function nextRestart(
  count: RestartCount,
  run: { readonly segments: number; readonly refused: boolean },
  policy: RestartPolicy,
  random: () => number = Math.random,
): RestartDecision {
  const failures = run.segments > 0 ? 1 : count.failures + 1;
  const refusals = run.refused ? count.refusals + 1 : 0;
  const delayMs = run.refused
    ? Math.max(policy.authBackoff.baseMs, backoffDelay(policy.authBackoff, refusals, undefined, random))
    : backoffDelay(policy.restartBackoff, failures, undefined, random);
  return { failures, refusals, delayMs, giveUp: failures > policy.maxRestarts };
}
