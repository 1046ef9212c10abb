import type { BackoffPolicy } from '../backoff.js';
import { type FfmpegBinary, locateFfmpeg } from '../camera/ffmpeg-locate.js';
import type { FleetConfig } from '../config/fleet-config.js';
import { type CameraConfig, cameraIdOf, type ProcessSettings } from '../config/relay-config.js';
import { redact, redactUrl } from '../redact.js';
import { SharedSpoolBound } from '../spool/shared-bound.js';
import { sweepStaleSpools } from '../spool/stale-sweep.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import type { StatusTracker } from '../telemetry/status-tracker.js';
import { UndiciTransport } from '../uploader/http.js';
import { RateLimiter } from '../uploader/rate-limiter.js';
import { PHASE_LIMITS } from '../uploader/request-phases.js';
import { PROBE_INTERVAL_MS, RetryPacer } from '../uploader/retry-pacer.js';
import type { HttpTransport } from '../uploader/transport.js';
import { UploadPool } from '../uploader/upload-pool.js';
import { CameraUnit } from './camera-unit.js';
import {
  type CameraOutcome,
  type FailedCamera,
  type FleetReport,
  failureOf,
  isFailure,
  isSharedFailure,
} from './outcome.js';
import { planReload, type ReloadReport } from './reload-plan.js';

export interface FleetHooks {
  readonly bus: EventBus;
  /** Aborted to stop every camera gracefully: a signal, or the demo's timer. */
  readonly stop: AbortSignal;
  /** Show and judge a camera until the remover is called (status line, metrics, readiness). */
  readonly watch?: (tracker: StatusTracker, emit: Emit, config: CameraConfig) => () => void;
  /** Registers a last-moment callback for a forced exit (a second signal); returns its remover. */
  readonly onForce?: (callback: (why: string) => void) => () => void;
}

interface Running {
  readonly unit: CameraUnit;
  readonly ended: Promise<void>;
}

/**
 * The relay process's cameras: one shared upload pool and HTTP agent, one camera unit per
 * configured camera. Each camera's trouble stays its own (an offline camera, a stall, rejected
 * segments), but a refused key or an untrusted ingest certificate — shared by all — stops them
 * all. `run` resolves when every camera has ended, with each one's outcome (never an exit code:
 * src/cli/ decides those).
 */
export class Fleet {
  readonly #hooks: FleetHooks;
  readonly #ffmpeg: FfmpegBinary;
  readonly #transport: HttpTransport;
  readonly #pool: UploadPool;
  readonly #retry: RetryPacer;
  readonly #sharedBound: SharedSpoolBound | undefined;
  readonly #emit: ReturnType<EventBus['forProcess']>;
  #config: FleetConfig;
  readonly #running = new Map<string, Running>();
  /** Per camera: a restart waits for the old unit to end (it holds the spool's lock). */
  readonly #starting = new Map<string, Promise<void>>();
  readonly #outcomes: CameraOutcome[] = [];
  #stoppedAllBy: FailedCamera | undefined;
  #allEnded!: () => void;
  readonly #ended = new Promise<void>((resolve) => {
    this.#allEnded = resolve;
  });

  private constructor(config: FleetConfig, hooks: FleetHooks, ffmpeg: FfmpegBinary) {
    this.#config = config;
    this.#hooks = hooks;
    this.#ffmpeg = ffmpeg;
    this.#emit = hooks.bus.forProcess();
    const settings = config.process;
    this.#transport = new UndiciTransport({
      // The connect phase: a few seconds, never past any camera's whole request deadline.
      connectTimeoutMs: Math.min(PHASE_LIMITS.connectMs, ...config.cameras.map((c) => c.uploadTimeoutMs)),
      extraCa: settings.extraCa,
      proxy: settings.proxy.kind === 'proxy' ? settings.proxy.url : undefined,
    });
    // One pacer for the process: during an outage one probe every 2–2.5 s and one line, not one per camera.
    this.#retry = new RetryPacer({
      backoff: backoffOf(settings),
      onReachability: (reachable, why) =>
        this.#emit({
          type: 'log',
          level: 'info',
          message: reachable
            ? 'the ingest answers again: resuming uploads'
            : `the ingest is ${/^HTTP 5/.test(why) ? 'failing' : 'unreachable'}: probing it every ${PROBE_INTERVAL_MS / 1000} s (${redact(why)})`,
        }),
    });
    this.#sharedBound =
      settings.maxTotalSpoolBytes === undefined
        ? undefined
        : new SharedSpoolBound(settings.maxTotalSpoolBytes);
    const { upload } = settings;
    this.#pool = new UploadPool({
      concurrency: upload.concurrency,
      order: upload.order,
      perCameraLimit: perCameraLimit(config),
      limiter:
        upload.maxRateBytesPerS === undefined
          ? undefined
          : new RateLimiter({ bytesPerSecond: upload.maxRateBytesPerS }),
    });
  }

  /** Find ffmpeg (a missing one is one line, exit 2, before any output) and start every camera. */
  static async start(config: FleetConfig, hooks: FleetHooks): Promise<Fleet> {
    const ffmpeg = await locateFfmpeg(config.process.ffmpeg);
    const fleet = new Fleet(config, hooks, ffmpeg);
    fleet.#emit({
      type: 'log',
      level: 'debug',
      message: `ffmpeg ${ffmpeg.version} (${ffmpeg.origin}) at ${ffmpeg.path}`,
    });
    const { proxy } = config.process;
    if (proxy.kind === 'proxy') {
      fleet.#emit({
        type: 'log',
        level: 'info',
        message: `reaching the ingest through the proxy ${redactUrl(proxy.url)} (from ${proxy.from})`,
      });
    }
    const stopAll = () => fleet.#stopAll(String(hooks.stop.reason ?? 'stop requested'));
    hooks.stop.addEventListener('abort', stopAll, { once: true });
    fleet.#ended.finally(() => hooks.stop.removeEventListener('abort', stopAll));
    if (config.cameras.length > 1) {
      fleet.#emit({ type: 'log', level: 'info', message: `relaying ${config.cameras.length} cameras` });
    }
    // Other relays' dead spools, once for the process: each camera then adopts only its own.
    await sweepStaleSpools(
      config.cameras.map((c) => ({
        root: c.spoolDir,
        cameraId: cameraIdOf(c),
        staleAfterMs: c.staleAfterMs,
      })),
      fleet.#emit,
    );
    for (const camera of config.cameras) fleet.#launch(camera);
    return fleet;
  }

  /** Until every camera has ended: how each one did. */
  async run(): Promise<FleetReport> {
    await this.#ended;
    this.#retry.close();
    await this.#transport.close().catch(() => undefined);
    return { cameras: this.#outcomes, stoppedAllBy: this.#stoppedAllBy, single: this.#config.single };
  }

  /**
   * Apply a new config: added cameras start, removed ones drain and stop, changed ones restart
   * (after draining), the others are untouched. The pool is resized; its order and rate cap,
   * and the HTTP agent's CA, are kept until a restart.
   */
  reload(next: FleetConfig): ReloadReport {
    const { report, launch, relaunch } = planReload(
      {
        config: this.#config,
        running: new Set(this.#running.keys()),
        starting: new Set(this.#starting.keys()),
      },
      next,
    );
    for (const id of report.removed) {
      this.#running.get(id)?.unit.stop('removed from the config');
      // Restarted by an earlier reload and still waiting for its old unit: it need not start.
      this.#starting.delete(id);
    }
    for (const camera of launch) this.#launch(camera);
    for (const camera of relaunch) {
      this.#running.get(cameraIdOf(camera))?.unit.stop('its config changed');
      this.#launch(camera);
    }
    // The pool takes the new size at once; its order and rate cap stay until a restart.
    this.#pool.resize(next.process.upload.concurrency, perCameraLimit(next));
    this.#retry.backoff = backoffOf(next.process);
    if (this.#sharedBound && next.process.maxTotalSpoolBytes !== undefined)
      this.#sharedBound.maxBytes = next.process.maxTotalSpoolBytes;
    this.#config = {
      ...next,
      process: {
        ...next.process,
        upload: { ...this.#config.process.upload, concurrency: next.process.upload.concurrency },
      },
      single: false,
    };
    return report;
  }

  #launch(config: CameraConfig): void {
    const id = cameraIdOf(config);
    // After the camera's previous unit (it holds the spool's lock), or a start still pending.
    const before = this.#starting.get(id) ?? this.#running.get(id)?.ended ?? Promise.resolve();
    const start: Promise<void> = before.then(() => {
      // A later reload launched this camera again: that launch starts it.
      if (this.#starting.get(id) !== start) return;
      this.#starting.delete(id);
      if (this.#stoppedAllBy) return this.#checkEnded();
      const unit = new CameraUnit(config, {
        bus: this.#hooks.bus,
        ffmpeg: this.#ffmpeg,
        transport: this.#transport,
        pool: this.#pool,
        retry: this.#retry,
        sharedBound: this.#sharedBound,
        watch: this.#hooks.watch && ((tracker, emit) => this.#hooks.watch!(tracker, emit, config)),
        onForce: this.#hooks.onForce,
      });
      // Stopped before it began: it still recovers and drains what an earlier run left.
      if (this.#hooks.stop.aborted) unit.stop(String(this.#hooks.stop.reason ?? 'stop requested'));
      const ended = unit.run().then(
        (outcome) => this.#unitEnded(outcome),
        (error: unknown) => this.#unitEnded(failureOf(unit.id, error)),
      );
      const running = { unit, ended };
      this.#running.set(id, running);
      void ended.then(() => {
        if (this.#running.get(id) === running) this.#running.delete(id);
        this.#checkEnded();
      });
    });
    this.#starting.set(id, start);
  }

  #unitEnded(outcome: CameraOutcome): void {
    this.#outcomes.push(outcome);
    if (!isFailure(outcome)) return;
    if (isSharedFailure(outcome)) {
      if (!this.#stoppedAllBy) {
        this.#stoppedAllBy = outcome;
        this.#stopAll(outcome.error.code);
      }
      return;
    }
    // One camera: its error is the process's, printed once by the CLI. Several: each is told here.
    if (!this.#config.single) {
      this.#hooks.bus.forCamera(outcome.camera)({
        type: 'error',
        code: outcome.error.code,
        message: outcome.error.message,
      });
    }
  }

  #stopAll(reason: string): void {
    for (const { unit } of this.#running.values()) unit.stop(reason);
    this.#checkEnded();
  }

  #checkEnded(): void {
    if (this.#running.size === 0 && this.#starting.size === 0) this.#allEnded();
  }
}

/** --retry-base, --retry-max, --retry-after-max: the process's one retry pacer. */
function backoffOf(settings: ProcessSettings): BackoffPolicy {
  return {
    baseMs: settings.retryBaseMs,
    capMs: settings.retryMaxMs,
    retryAfterCapMs: settings.retryAfterMaxMs,
  };
}

/** Each camera may have an equal share of the pool's requests in flight, at least one. */
function perCameraLimit(config: FleetConfig): number {
  return Math.max(1, Math.floor(config.process.upload.concurrency / config.cameras.length));
}
