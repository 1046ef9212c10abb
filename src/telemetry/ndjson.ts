import { redact } from '../redact.js';
import { type Listener, PROCESS_CAMERA } from './events.js';

/**
 * Version of the --json lines (their schema: events.schema.json beside this file). Bumped when a
 * field changes meaning or goes away; new optional fields and event types may come within one.
 */
export const NDJSON_VERSION = 1;

/** --json: one JSON object per event on stderr: the RelayEvent union plus `v`, `ts` and `camera`. */
export function ndjson(write: (line: string) => void): Listener {
  return ({ camera, ...rest }) => write(ndjsonLine(camera === PROCESS_CAMERA ? rest : { ...rest, camera }));
}

/** One event as its --json line (no newline), secrets masked. */
export function ndjsonLine(event: object): string {
  return redact(JSON.stringify({ v: NDJSON_VERSION, ...event }));
}
