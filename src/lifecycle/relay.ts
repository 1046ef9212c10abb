import { locateFfmpeg } from '../camera/ffmpeg-locate.js';
import { ffmpegProber } from '../camera/probe-segment.js';
import { CaptureSupervisor } from '../camera/supervisor.js';
import { cameraIdOf, cameraNameOf, captureSettingsOf, type RelayConfig } from '../config/relay-config.js';
import { ExitCode, type RelayError } from '../errors.js';
import { redact } from '../redact.js';
import { CameraLock } from '../spool/lock.js';
import { Spool } from '../spool/spool.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import { StatusTracker } from '../telemetry/status-tracker.js';
import { classify, fatalError } from '../uploader/classify.js';
import { CloudApi } from '../uploader/cloud.js';
import { UndiciTransport } from '../uploader/http.js';
import { requestEvent } from '../uploader/request-event.js';
import { RetryPacer } from '../uploader/retry-pacer.js';
import type { HttpTransport } from '../uploader/transport.js';
import { Uploader } from '../uploader/uploader.js';
import { sweepAndRecover } from './recovery.js';
import { firstOf } from './signals.js';
import { StopBudget } from './stop-budget.js';

export interface RelayHooks {
  readonly bus: EventBus;
  /** Called with the tracker once the camera is known (status line, progress events). */
  readonly onTracker?: (tracker: StatusTracker, emit: Emit) => void;
  /** Aborted to stop gracefully: a signal, or the demo's timer. Watched from the first line on. */
  readonly stop: AbortSignal;
  /** Registers a last-moment callback for a forced exit (a second signal); returns its remover. */
  readonly onForce?: (callback: (why: string) => void) => () => void;
}

const FFMPEG_STOP_GRACE_MS = 2000;
/** While the ingest is unreachable, a HEAD about this often (jittered) finds it back. */
const INGEST_PROBE_INTERVAL_MS = 2000;
const SESSION_END_TIMEOUT_MS = 1000;
/** A failure that goes on is repeated in the log this often. */
const STILL_FAILING_EVERY_MS = 60_000;
/** Kept back from the stop budget for the session DELETE and closing the spool. */
const STOP_RESERVE_MS = 1200;

/**
 * One camera relay, start to exit: lock the camera's spool, sweep and recover, register,
 * capture into the spool while uploading, and on a stop close ffmpeg's segment, drain, DELETE
 * the session. A stop is honoured at every phase and the whole of it fits --drain-timeout.
 * Returns the exit code; errors that end the run are thrown as RelayError.
 */
export async function runRelay(config: RelayConfig, hooks: RelayHooks): Promise<number> {
  const { stop } = hooks;
  const budget = new StopBudget(stop, config.drainTimeoutMs, STOP_RESERVE_MS);
  const cameraId = cameraIdOf(config);
  const emit = hooks.bus.forCamera(cameraId);
  // Before any output: a missing ffmpeg is one line (exit 2) and nothing else.
  const ffmpeg = await locateFfmpeg(config.ffmpeg);
  emit({
    type: 'state',
    state: 'starting',
    detail: `${config.source.display} → ${redact(config.cloud)} as ${cameraId}`,
  });
  emit({
    type: 'log',
    level: 'debug',
    message: `ffmpeg ${ffmpeg.version} (${ffmpeg.origin}) at ${ffmpeg.path}`,
  });
  const lock = await CameraLock.acquire(config.spoolDir, cameraId);
  if (!lock.enforced)
    emit({
      type: 'log',
      level: 'warn',
      message: 'no file lock on this platform: make sure only one relay runs per camera and spool dir',
    });
  try {
    const spool = await Spool.create({
      root: config.spoolDir,
      cameraId,
      maxBytes: config.maxSpoolBytes,
      emit,
    });
    try {
      return await relayWithSpool(config, hooks, { cameraId, emit, budget, spool, ffmpeg });
    } finally {
      await spool.close().catch(() => undefined);
    }
  } finally {
    await lock.release();
  }
}

interface RunContext {
  readonly cameraId: string;
  readonly emit: Emit;
  readonly budget: StopBudget;
  readonly spool: Spool;
  readonly ffmpeg: Awaited<ReturnType<typeof locateFfmpeg>>;
}

async function relayWithSpool(config: RelayConfig, hooks: RelayHooks, ctx: RunContext): Promise<number> {
  const { cameraId, emit, budget, spool, ffmpeg } = ctx;
  const { stop } = hooks;
  // Probes run inside the stop's budget: at the deadline they give up, and the file is kept.
  const prober = ffmpegProber(ffmpeg.path, budget.hard);
  const recovered = await sweepAndRecover({
    spool,
    staleAfterMs: config.staleAfterMs,
    prober,
    emit,
    signal: stop,
  });

  const transport: HttpTransport = new UndiciTransport({
    connectTimeoutMs: Math.min(10_000, config.uploadTimeoutMs),
    extraCa: config.extraCa,
  });
  const api = new CloudApi(config.cloud, config.token, cameraId);
  const retry = new RetryPacer({
    backoff: {
      baseMs: config.retryBaseMs,
      capMs: config.retryMaxMs,
      retryAfterCapMs: config.retryAfterMaxMs,
    },
    probeIntervalMs: INGEST_PROBE_INTERVAL_MS,
    probe: async (signal) => {
      const outcome = await transport.send(
        api.probe(Math.min(INGEST_PROBE_INTERVAL_MS, config.uploadTimeoutMs), signal),
      );
      return outcome.kind === 'response';
    },
    onReachability: (reachable) =>
      emit({
        type: 'log',
        level: 'info',
        message: reachable
          ? 'the ingest answers again: resuming uploads'
          : `the ingest is unreachable: probing it every ${INGEST_PROBE_INTERVAL_MS / 1000} s`,
      }),
  });
  let fatalError: RelayError | undefined;
  let fail!: (error: RelayError) => void;
  const fatal = new Promise<RelayError>((resolve) => {
    fail = (error) => {
      fatalError ??= error;
      resolve(error);
    };
  });
  let registered = false;

  const uploader = new Uploader({
    spool,
    api,
    transport,
    uploadTimeoutMs: config.uploadTimeoutMs,
    concurrency: config.uploadConcurrency,
    retry,
    emit,
    beforeFirstUpload: (signal) =>
      register(transport, api, config, cameraId, emit, retry, signal).then(
        (ok) => {
          registered = ok;
        },
        (error: RelayError) => fail(error),
      ),
    onFatal: fail,
  });
  for (const record of recovered.adopted) uploader.enqueue(record);

  const supervisor = new CaptureSupervisor({
    ffmpeg,
    source: config.source,
    settings: captureSettingsOf(config),
    spool,
    emit,
    onSegment: (record) => uploader.enqueue(record),
    maxRestarts: config.maxRestarts,
    restartBackoff: { baseMs: 1000, capMs: 30_000, retryAfterCapMs: 0 },
    stallTimeoutMs: config.stallTimeoutMs,
    stopGraceMs: FFMPEG_STOP_GRACE_MS,
    probeIntervalMs: 1000,
    prober,
  });

  const tracker = new StatusTracker(cameraId, {
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
  const unsubscribe = hooks.bus.on((event) => {
    if (event.camera === cameraId) tracker.observe(event);
  });
  hooks.onTracker?.(tracker, emit);
  const removeForce = hooks.onForce?.((why) => {
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
      throw outcome.value;
    }
    if (outcome.which === 'capture' && 'error' in outcome.value) {
      await uploader.drain(config.drainTimeoutMs);
      await uploader.stop();
      emit({ type: 'state', state: 'failed', detail: outcome.value.error.code });
      throw outcome.value.error;
    }
    const finished = outcome.which === 'capture' && !stop.aborted;
    emit({
      type: 'state',
      state: 'draining',
      detail: finished ? 'source ended' : String(stop.reason ?? 'stop requested'),
    });
    await supervisor.stop(budget.graceMs(FFMPEG_STOP_GRACE_MS));
    await capture.catch(() => undefined);
    // A finished file is drained completely (a stop still interrupts); a stop gets its budget.
    const drained = finished
      ? await Promise.race([
          uploader.drain(),
          budget.started.then(() => uploader.drain(budget.untilReserveMs())),
          fatal.then(() => false),
        ])
      : await uploader.drain(budget.untilReserveMs());
    await uploader.stop();
    if (fatalError) {
      emit({ type: 'state', state: 'failed', detail: fatalError.code });
      throw fatalError;
    }
    if (registered) await endSession(transport, api, emit, budget.finalMs(SESSION_END_TIMEOUT_MS));
    const left = await spool.close();
    emit({ type: 'state', state: 'stopped', detail: stoppedDetail(drained, left, spool) });
    return ExitCode.ok;
  } finally {
    removeForce?.();
    unsubscribe();
    await uploader.stop().catch(() => undefined);
    await transport.close().catch(() => undefined);
  }
}

function stoppedDetail(drained: boolean, left: { removed: boolean; pending: number }, spool: Spool): string {
  if (drained && left.removed) return 'all segments delivered';
  if (left.pending === 0)
    return `all segments delivered; ${spool.gaps().length} recorded loss(es) to announce on the next run (kept in ${spool.dir})`;
  return `${left.pending} segment(s) left in ${spool.dir} for the next run`;
}

/**
 * POST /api/cameras until it answers; a refused key or an untrusted certificate is fatal (the
 * same verdict as for uploads), another refusal only a warning.
 * Resolves true once registered, false when refused or stopped (`signal` aborts it at once,
 * even while a request hangs).
 */
async function register(
  transport: HttpTransport,
  api: CloudApi,
  config: RelayConfig,
  cameraId: string,
  emit: Emit,
  retry: RetryPacer,
  signal: AbortSignal,
): Promise<boolean> {
  const name = cameraNameOf(config, cameraId);
  const startedAt = Date.now();
  let saidAt = startedAt;
  for (let attempt = 1; !signal.aborted; attempt++) {
    const request = { ...api.register(name, config.source.kind, config.uploadTimeoutMs), signal };
    const sentAt = performance.now();
    const verdict = classify(await transport.send(request));
    if (signal.aborted) return false;
    emit(requestEvent('register', verdict, (performance.now() - sentAt) / 1000));
    const fatal = fatalError(verdict, request.url);
    if (fatal) throw fatal;
    if (verdict.class === 'ok') {
      emit({ type: 'log', level: 'info', message: `camera ${cameraId} registered` });
      return true;
    }
    if (verdict.class === 'reject') {
      emit({
        type: 'log',
        level: 'warn',
        message: `registration refused (HTTP ${verdict.status}); sending segments anyway`,
      });
      return true;
    }
    if (verdict.class !== 'transient') return false;
    const message = `registration failed (${verdict.reason}), retrying`;
    if (attempt === 1) emit({ type: 'error', code: 'ERR_REGISTER', message });
    else if (Date.now() - saidAt >= STILL_FAILING_EVERY_MS) {
      // Not one line then silence: a registration that keeps failing is said again, now and then.
      saidAt = Date.now();
      emit({
        type: 'log',
        level: 'warn',
        message: `registration still failing after ${attempt} attempts in ${Math.round((saidAt - startedAt) / 1000)} s (${verdict.reason}); segments wait in the spool`,
      });
    } else emit({ type: 'log', level: 'debug', message });
    await retry.wait(retry.plan(verdict, attempt), signal);
  }
  return false;
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
