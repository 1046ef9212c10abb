import { redact } from '../redact.js';
import type { Emit, EventBus, StatusSnapshot, WatchedCamera } from '../telemetry/events.js';
import { humanLog } from '../telemetry/human-log.js';
import { ndjson, ndjsonLine } from '../telemetry/ndjson.js';
import { formatBoard, StatusBlock } from '../telemetry/status-board.js';

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  /** A `cameras:` list: every camera's log line names it, even while only one runs. */
  manyCameras?: boolean;
  /** Without a TTY, print the status as a plain line this often (the demo); default never. */
  plainStatusMs?: number;
}

/** How often the status is shown: progress events, the TTY block. */
const STATUS_EVERY_MS = 1000;
/**
 * With --json, once no camera's figures have changed for QUIET_AFTER_TICKS seconds (a camera
 * that is off, nothing to send), progress comes every QUIET_EVERY_MS instead, until any event
 * happens. Why: on an idle box each wake-up is most of the relay's CPU (an unreachable camera:
 * about one per second from this timer, one per probe).
 */
const QUIET_EVERY_MS = 10_000;
const QUIET_AFTER_TICKS = 3;

/** The snapshot without the figures a clock moves on its own: what says something happened. */
function figures(snapshot: StatusSnapshot): string {
  const { uptimeS, sinceClosedS, sinceDeliveredS, ingestFailingS, backlogAgeS, ...rest } = snapshot;
  return JSON.stringify(rest);
}

/**
 * Where the relay's output goes: NDJSON with --json, else human lines plus a TTY status block
 * with one line per camera. One timer serves every camera.
 */
export function attachOutput(bus: EventBus, options: OutputOptions) {
  const stderr = process.stderr;
  const block = !options.json && stderr.isTTY ? new StatusBlock(stderr) : undefined;
  /** In the order they came: the block lists the cameras in that order. */
  const cameras = new Set<{ readonly tracker: WatchedCamera; readonly emit: Emit }>();
  const write = (line: string) => {
    block?.clear();
    stderr.write(`${line}\n`);
  };
  bus.on(
    options.json
      ? ndjson(write)
      : humanLog(write, options.verbose, () => options.manyCameras === true || cameras.size > 1),
  );
  const plainEvery = options.plainStatusMs ? Math.max(1, Math.round(options.plainStatusMs / 1000)) : 0;
  let ticks = 0;
  let timer: NodeJS.Timeout | undefined;
  let periodMs = STATUS_EVERY_MS;
  let unchangedTicks = 0;
  let lastFigures = '';
  let latest: WatchedCamera | undefined;
  let closed = false;

  let snapshotFailed = false;
  /** Each camera's numbers; one that cannot give them is left out, said once: the timer must not throw. */
  const statuses = () =>
    [...cameras].flatMap(({ tracker, emit }) => {
      try {
        return [{ camera: tracker.camera, snapshot: tracker.snapshot(), emit }];
      } catch (error) {
        if (!snapshotFailed) {
          snapshotFailed = true;
          stderr.write(
            redact(
              `trio-relay: the status of ${tracker.camera} failed (later failures not shown): ${String(error)}\n`,
            ),
          );
        }
        return [];
      }
    });
  const startTimer = (ms: number) => {
    clearInterval(timer);
    periodMs = ms;
    timer = setInterval(tick, ms);
    timer.unref();
  };
  const tick = () => {
    ticks++;
    if (options.json) {
      const now = statuses();
      for (const { snapshot, emit } of now) emit({ type: 'progress', snapshot });
      const seen = now.map(({ snapshot }) => figures(snapshot)).join('\n');
      unchangedTicks = seen === lastFigures ? unchangedTicks + 1 : 0;
      lastFigures = seen;
      if (unchangedTicks >= QUIET_AFTER_TICKS && periodMs === STATUS_EVERY_MS) startTimer(QUIET_EVERY_MS);
    } else if (block) block.show(statuses());
    else if (plainEvery && ticks % plainEvery === 0) {
      for (const line of formatBoard(statuses(), Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY))
        write(line);
    }
  };
  const stopTimer = () => {
    clearInterval(timer);
    timer = undefined;
    block?.clear();
  };
  if (options.json) {
    // Something happened: progress every second again.
    bus.on((event) => {
      if (event.type === 'progress') return;
      unchangedTicks = 0;
      if (timer && periodMs !== STATUS_EVERY_MS) startTimer(STATUS_EVERY_MS);
    });
  }

  return {
    /**
     * Show this camera from now on, until the returned function is called (a camera removed at
     * a reload). Every second: a progress event per camera (NDJSON; every 10 s while nothing
     * changes) or the status block redrawn.
     */
    onTracker(tracker: WatchedCamera, emit: Emit): () => void {
      const entry = { tracker, emit };
      cameras.add(entry);
      latest = tracker;
      if (!timer && !closed) startTimer(STATUS_EVERY_MS);
      return () => {
        if (!cameras.delete(entry)) return;
        if (cameras.size === 0) stopTimer();
      };
    },
    /** The last numbers of the camera added last, for a closing summary. */
    snapshot: (): StatusSnapshot | undefined => latest?.snapshot(),
    close(): void {
      closed = true;
      stopTimer();
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
