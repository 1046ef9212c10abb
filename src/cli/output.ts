import { redact } from '../redact.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import { humanLog } from '../telemetry/human-log.js';
import { ndjson, ndjsonLine } from '../telemetry/ndjson.js';
import { formatStatus, StatusLine } from '../telemetry/status-line.js';
import type { StatusTracker } from '../telemetry/status-tracker.js';

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  /** Without a TTY, print the status as a plain line this often (the demo); default never. */
  plainStatusMs?: number;
}

/** Where the relay's output goes: NDJSON with --json, else human lines plus a TTY status line. */
export function attachOutput(bus: EventBus, options: OutputOptions) {
  const stderr = process.stderr;
  const status = !options.json && stderr.isTTY ? new StatusLine(stderr) : undefined;
  const write = (line: string) => {
    status?.clear();
    stderr.write(`${line}\n`);
  };
  bus.on(options.json ? ndjson(write) : humanLog(write, options.verbose));
  let timer: NodeJS.Timeout | undefined;
  let latest: StatusTracker | undefined;
  return {
    /** Every second: a progress event (NDJSON) or the status line redrawn. */
    onTracker(tracker: StatusTracker, emit: Emit): void {
      latest = tracker;
      const plainEvery = options.plainStatusMs ? Math.max(1, Math.round(options.plainStatusMs / 1000)) : 0;
      let ticks = 0;
      timer = setInterval(() => {
        const snapshot = tracker.snapshot();
        ticks++;
        if (options.json) emit({ type: 'progress', snapshot });
        else if (status) status.show(snapshot);
        else if (plainEvery && ticks % plainEvery === 0) write(formatStatus(snapshot));
      }, 1000);
      timer.unref();
    },
    /** The last numbers, for a closing summary. */
    snapshot: () => latest?.snapshot(),
    close(): void {
      clearInterval(timer);
      status?.clear();
    },
    write,
  };
}

/** The one place an error becomes text for the operator; with --json an `error` event with its code. */
export function printError(message: string, json: boolean, code: string): void {
  process.stderr.write(
    json
      ? `${ndjsonLine({ ts: new Date().toISOString(), type: 'error', code, message })}\n`
      : `trio-relay: ${redact(message)}\n`,
  );
}
