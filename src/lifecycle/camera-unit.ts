import type { FfmpegBinary } from '../camera/ffmpeg-locate.js';
import { ffmpegProber } from '../camera/probe-segment.js';
import { CaptureSupervisor } from '../camera/supervisor.js';
import { type CameraConfig, cameraIdOf, cameraNameOf, captureSettingsOf } from '../config/relay-config.js';
import type { RelayError } from '../errors.js';
import { redact } from '../redact.js';
import { adoptOrphans } from '../spool/adoption.js';
import { CameraLock } from '../spool/lock.js';
import type { SharedSpoolBound } from '../spool/shared-bound.js';
import { Spool } from '../spool/spool.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import { StatusTracker } from '../telemetry/status-tracker.js';
import { CloudApi } from '../uploader/cloud.js';
import type { RetryPacer } from '../uploader/retry-pacer.js';
import type { HttpTransport } from '../uploader/transport.js';
import type { UploadPool } from '../uploader/upload-pool.js';
import { Uploader } from '../uploader/uploader.js';
import { firstOf } from './first-of.js';
import { type CameraOutcome, failureOf } from './outcome.js';
import { StopBudget } from './stop-budget.js';

/** What the process shares with each of its cameras. */
export interface CameraUnitDeps {
  readonly bus: EventBus;
  readonly ffmpeg: FfmpegBinary;
  readonly transport: HttpTransport;
  readonly pool: UploadPool;
  /** The process's one retry pacer: one probe and one outage line for every camera. */
  readonly retry: RetryPacer;
  /** --max-total-spool-mb, shared by every camera's spool. */
  readonly sharedBound?: SharedSpoolBound | undefined;
  /** Show and judge this camera (status line, metrics, readiness) until the remover is called. */
  readonly watch?: (tracker: StatusTracker, emit: Emit) => () => void;
  /** Registers a last-moment callback for a forced exit (a second signal); returns its remover. */
  readonly onForce?: (callback: (why: string) => void) => () => void;
}

const FFMPEG_STOP_GRACE_MS = 3000;
const SESSION_END_TIMEOUT_MS = 1000;
/** Kept back from the stop budget for the session DELETE and closing the spool. */
const STOP_RESERVE_MS = 1200;

/**
 * One camera, start to end: lock its spool, adopt its orphans, capture into the spool while its
 * segments go through the shared upload pool, and on a stop close ffmpeg's segment, drain and
 * DELETE the session — all within --drain-timeout from the stop, whatever phase it began in.
 * No process-wide side effects: signals, exit and the pool belong to the composition root.
 */
export class CameraUnit {
  readonly id: string;
  readonly config: CameraConfig;
  readonly #deps: CameraUnitDeps;
  readonly #stop = new AbortController();

  constructor(config: CameraConfig, deps: CameraUnitDeps) {
    this.config = config;
    this.id = cameraIdOf(config);
    this.#deps = deps;
  }

  /** Ask the camera to stop: it drains within its --drain-timeout. */
  stop(reason: string): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
  }

  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /**
   * Run until the source ends, the camera is stopped or an error ends it (a wrong key, a camera
   * that cannot be captured): resolves with which. An error before capture (the spool's lock) rejects.
   */
  async run(): Promise<CameraOutcome> {
    const { config } = this;
    const budget = new StopBudget(this.#stop.signal, config.drainTimeoutMs, STOP_RESERVE_MS);
    const emit = this.#deps.bus.forCamera(this.id);
    emit({
      type: 'state',
      state: 'starting',
      detail: `${config.source.display} → ${redact(config.cloud)} as ${this.id}`,
    });
    const lock = await CameraLock.acquire(config.spoolDir, this.id);
    if (!lock.enforced)
      emit({
        type: 'log',
        level: 'warn',
        message: 'no file lock on this platform: make sure only one relay runs per camera and spool dir',
      });
    try {
      const spool = await Spool.create({
        root: config.spoolDir,
        cameraId: this.id,
        maxBytes: config.maxSpoolBytes,
        sharedBound: this.#deps.sharedBound,
        emit,
      });
      try {
        return await this.#withSpool(spool, emit, budget);
      } finally {
        await spool.close().catch(() => undefined);
      }
    } finally {
      await lock.release();
    }
  }

  async #withSpool(spool: Spool, emit: Emit, budget: StopBudget): Promise<CameraOutcome> {
    const { config, id } = this;
    const { ffmpeg, transport } = this.#deps;
    const stop = this.#stop.signal;
    // Probes run inside the stop's budget: at the deadline they give up, and the file is kept.
    const prober = ffmpegProber(ffmpeg.path, budget.hard);
    // Other cameras' stale dirs are the fleet's sweep, once per process before any camera starts.
    await adoptOrphans({
      spool,
      staleAfterMs: config.staleAfterMs,
      prober,
      emit,
      signal: stop,
    });

    const api = new CloudApi(config.cloud, config.token, id);
    let fatalError: RelayError | undefined;
    let fail!: (error: RelayError) => void;
    const fatal = new Promise<RelayError>((resolve) => {
      fail = (error) => {
        fatalError ??= error;
        resolve(error);
      };
    });

    // Its spool is the only queue: the uploader's seat in the pool asks it for the next segment,
    // the adopted backlog and each segment capture closes alike.
    const uploader = new Uploader({
      spool,
      api,
      transport,
      pool: this.#deps.pool,
      uploadTimeoutMs: config.uploadTimeoutMs,
      retry: this.#deps.retry,
      emit,
      registration: { cameraId: id, name: cameraNameOf(config, id), kind: config.source.kind },
      onFatal: fail,
    });

    const supervisor = new CaptureSupervisor({
      ffmpeg,
      source: config.source,
      settings: captureSettingsOf(config),
      spool,
      emit,
      maxRestarts: config.maxRestarts,
      restartBackoff: { baseMs: 1000, capMs: 30_000, retryAfterCapMs: 0 },
      stallTimeoutMs: config.stallTimeoutMs,
      stopGraceMs: FFMPEG_STOP_GRACE_MS,
      probeIntervalMs: 1000,
      prober,
    });

    const tracker = new StatusTracker(id, {
      pendingCount: () => spool.pendingCount,
      spoolBytes: () => spool.pendingBytes,
      spoolUsedBytes: () => spool.usedBytes,
      spoolMaxBytes: () => spool.maxBytes,
      oldestPendingStartMs: () => spool.oldestPendingStartMs,
      retrying: () => uploader.retrying,
      delivered: () => uploader.delivered,
      bytesSent: () => uploader.bytesSent,
      fps: () => supervisor.running?.fps ?? 0,
    });
    const unsubscribe = this.#deps.bus.on((event) => {
      if (event.camera === id) tracker.observe(event);
    });
    const unwatch = this.#deps.watch?.(tracker, emit);
    const removeForce = this.#deps.onForce?.((why) => {
      supervisor.kill();
      emit({ type: 'log', level: 'warn', message: `${why}: exiting now, spool kept in ${spool.dir}` });
    });

    try {
      // A stop during start-up skips capture: the adopted backlog gets the drain budget.
      const capture = stop.aborted ? Promise.resolve('stopped' as const) : supervisor.run();
      const outcome = await firstOf({
        capture: capture.then(
          (end) => ({ end }),
          (error: RelayError) => ({ error }),
        ),
        fatal,
        stop: budget.started,
      });

      if (outcome.which === 'fatal') {
        // Wrong key: stop capturing, keep everything spooled for a run with the right one.
        await supervisor.stop(budget.graceMs(FFMPEG_STOP_GRACE_MS));
        await uploader.stop();
        emit({ type: 'state', state: 'failed', detail: outcome.value.code });
        return failureOf(id, outcome.value);
      }
      if (outcome.which === 'capture' && 'error' in outcome.value) {
        await uploader.drain(config.drainTimeoutMs);
        await uploader.stop();
        emit({ type: 'state', state: 'failed', detail: outcome.value.error.code });
        return failureOf(id, outcome.value.error);
      }
      const finished = outcome.which === 'capture' && !stop.aborted;
      emit({
        type: 'state',
        state: 'draining',
        detail: finished ? 'source ended' : String(stop.reason ?? 'stop requested'),
      });
      const readUntil = await supervisor.stop(budget.graceMs(FFMPEG_STOP_GRACE_MS));
      await capture.catch(() => undefined);
      // Frames on their way to ffmpeg when it stopped reading are a hole, declared now; a
      // source that ended has none.
      if (!finished) await spool.declareStop(new Date(), readUntil);
      // A finished file is drained completely (a stop still interrupts); a stop gets its budget.
      await (finished
        ? Promise.race([
            uploader.drain(),
            budget.started.then(() => uploader.drain(budget.untilReserveMs())),
            fatal.then(() => false),
          ])
        : uploader.drain(budget.untilReserveMs()));
      await uploader.stop();
      if (fatalError) {
        emit({ type: 'state', state: 'failed', detail: fatalError.code });
        return failureOf(id, fatalError);
      }
      // The ingest answered the registration (accepted it, or refused and took segments anyway).
      const answered = uploader.registration === 'registered' || uploader.registration === 'refused';
      if (answered) await endSession(transport, api, emit, budget.finalMs(SESSION_END_TIMEOUT_MS));
      const left = await spool.close('stopped');
      emit({ type: 'state', state: 'stopped', detail: stoppedDetail(left, spool) });
      return { camera: id, kind: finished ? 'finished' : 'stopped' };
    } finally {
      removeForce?.();
      unwatch?.();
      unsubscribe();
      await uploader.stop().catch(() => undefined);
    }
  }
}

function stoppedDetail(left: { removed: boolean; pending: number }, spool: Spool): string {
  if (left.removed) return 'all segments delivered';
  return `${left.pending} segment(s) left in ${spool.dir} for the next run`;
}

/** Best effort, short: the cloud closes the ingest session; 204 or 404 are both fine. */
async function endSession(
  transport: HttpTransport,
  api: CloudApi,
  emit: Emit,
  timeoutMs: number,
): Promise<void> {
  if (timeoutMs <= 0) return;
  const outcome = await transport.send(api.endSession(timeoutMs));
  if (outcome.kind !== 'response' || (outcome.status >= 300 && outcome.status !== 404)) {
    emit({
      type: 'log',
      level: 'debug',
      message: `ending the ingest session failed: ${outcome.kind === 'response' ? outcome.status : outcome.code}`,
    });
  }
}
