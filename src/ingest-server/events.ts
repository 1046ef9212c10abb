import type { LedgerEntry } from './ledger.js';

export type Route = 'register' | 'ingest' | 'session_end' | 'other';

/** What the ingest server did with one request, as announced by its `request` event (the relay side's outcome of an exchange is telemetry's RequestOutcome). */
export interface ServedRequest {
  route: Route;
  method: string;
  /** The URL path, without its query. */
  path: string;
  /** From the path (ingest, session end) or the body (register); null when unknown or invalid. */
  camera: string | null;
  /** The status answered; 0 when nothing was (hang, reset, client gone). */
  httpStatus: number;
  outcome: 'accepted' | 'duplicate' | 'rejected' | 'fault' | 'unauthorized' | 'not_found';
  /** The injected fault, when `outcome` is 'fault'. */
  fault: 'status' | 'hang' | 'reset' | null;
  /** The ledger row written for it, if any. */
  entry: LedgerEntry | null;
}

/**
 * Typed events of `IngestServer`. Each fires before the client gets its answer, so once a
 * response arrives, `stats()` and `accepted()` already include it.
 */
export type IngestServerEvents = {
  /** Every segment ledger row, whatever its status (accepted, duplicate, rejected, fault). */
  segment: [entry: LedgerEntry];
  register: [entry: LedgerEntry];
  session_end: [entry: LedgerEntry];
  /** Every request, ledgered or not. */
  request: [outcome: ServedRequest];
  /** The listener closed (a `down` fault) … */
  down: [];
  /** … and is listening again, on the same port. */
  up: [];
};

/** The human line for one request, e.g. `cam 92ac8e61 seq 12  183.2 KB  accepted`. */
export function formatOutcome(o: ServedRequest): string {
  const cam = `cam ${(o.camera ?? '?').slice(0, 8)}`;
  switch (o.route) {
    case 'register':
      return o.outcome === 'accepted' ? `${cam} registered` : `register ${verdict(o)}`;
    case 'session_end':
      return o.outcome === 'accepted' ? `${cam} session ended` : `${cam} session end ${verdict(o)}`;
    case 'other':
      return `${o.method} ${o.path}  ${verdict(o)}`;
    case 'ingest': {
      const kb = `${((o.entry?.size ?? 0) / 1024).toFixed(1)} KB`;
      return `${cam} seq ${o.entry?.sequence ?? '-'}  ${kb}  ${verdict(o)}${notes(o.entry)}`;
    }
  }
}

/** `accepted`, `duplicate`, `fault 503`, `fault hang`, `rejected 415`, `unauthorized 401`… */
function verdict(o: ServedRequest): string {
  if (o.outcome === 'accepted' || o.outcome === 'duplicate') return o.outcome;
  if (o.outcome === 'fault') return `fault ${o.fault === 'status' ? o.httpStatus : o.fault}`;
  if (o.httpStatus === 0) return 'abandoned by the client';
  return `${o.outcome.replace('_', ' ')} ${o.httpStatus}`;
}

function notes(e: LedgerEntry | null): string {
  if (!e) return '';
  let text = '';
  if (Array.isArray(e.gap)) {
    const ranges = e.gap.map((g) => `${g.seq_from}-${g.seq_to} ${g.reason}`).join(', ');
    text += `  gap ${ranges}`;
  } else if (e.gap) text += `  gap ${e.gap.raw}`;
  if (e.clock_jump !== null) text += `  clock jump ${e.clock_jump > 0 ? '+' : ''}${e.clock_jump} s`;
  return text;
}
