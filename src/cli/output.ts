import { redact } from '../redact.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import { humanLog } from '../telemetry/human-log.js';
import { ndjson } from '../telemetry/ndjson.js';
import { StatusLine } from '../telemetry/status-line.js';
import type { StatusTracker } from '../telemetry/status-tracker.js';

/** Where the relay's output goes: NDJSON with --json, else human lines plus a TTY status line. */
export function attachOutput(
  bus: EventBus,
  options: { json: boolean; verbose: boolean; statusLine?: boolean },
) {
  const stderr = process.stderr;
  const status = !options.json && (options.statusLine ?? stderr.isTTY) ? new StatusLine(stderr) : undefined;
  const write = (line: string) => {
    status?.clear();
    stderr.write(`${line}\n`);
  };
  bus.on(options.json ? ndjson(write) : humanLog(write, options.verbose));
  let timer: NodeJS.Timeout | undefined;
  return {
    /** Every second: a progress event (NDJSON, metrics) and the status line redrawn. */
    onTracker(tracker: StatusTracker, emit: Emit): void {
      timer = setInterval(() => {
        const snapshot = tracker.snapshot();
        if (options.json) emit({ type: 'progress', snapshot });
        status?.show(snapshot);
      }, 1000);
      timer.unref();
    },
    close(): void {
      clearInterval(timer);
      status?.clear();
    },
    write,
  };
}

/** The one place an error becomes text for the operator. */
export function printError(message: string, json: boolean): void {
  const text = redact(message);
  process.stderr.write(
    json
      ? `${JSON.stringify({ type: 'error', ts: new Date().toISOString(), message: text })}\n`
      : `trio-relay: ${text}\n`,
  );
}
