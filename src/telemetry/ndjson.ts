import { redact } from '../redact.js';
import type { Listener } from './events.js';

/** --json: one JSON object per event on stderr (schema: the RelayEvent union + ts + camera). */
export function ndjson(write: (line: string) => void): Listener {
  return (event) => write(redact(JSON.stringify(event)));
}
