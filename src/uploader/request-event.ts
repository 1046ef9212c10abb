import type { RelayEvent } from '../telemetry/events.js';
import type { Verdict } from './classify.js';

/** The telemetry event for one classified exchange: outcome class, duration, status or reason. */
export function requestEvent(
  request: 'register' | 'ingest',
  verdict: Verdict,
  durationS: number,
  sequence?: number,
): Extract<RelayEvent, { type: 'request' }> {
  return {
    type: 'request',
    request,
    outcome: verdict.class,
    durationS: Math.round(durationS * 1e6) / 1e6,
    ...(sequence === undefined ? {} : { sequence }),
    ...('status' in verdict ? { status: verdict.status } : {}),
    ...('reason' in verdict ? { reason: verdict.reason } : {}),
  };
}
