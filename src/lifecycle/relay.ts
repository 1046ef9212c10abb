import { deriveCameraId } from '../camera/camera-id.js';
import { locateFfmpeg } from '../camera/ffmpeg-locate.js';
import { ffmpegProber } from '../camera/probe-segment.js';
import { CaptureSupervisor } from '../camera/supervisor.js';
import type { RelayConfig } from '../config/relay-config.js';
import { AuthError, ExitCode, type RelayError } from '../errors.js';
import { redact } from '../redact.js';
import { Spool } from '../spool/spool.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import { StatusTracker } from '../telemetry/status-tracker.js';
import { backoffDelay, sleep } from '../uploader/backoff.js';
import { classify } from '../uploader/classify.js';
import { CloudApi } from '../uploader/cloud.js';
import { UndiciTransport } from '../uploader/http.js';
import type { HttpTransport } from '../uploader/transport.js';
import { Uploader } from '../uploader/uploader.js';
import { sweepAndRecover } from './recovery.js';
import { firstOf, ShutdownSignals } from './signals.js';

export interface RelayHooks {
  readonly bus: EventBus;
  /** Called with the tracker once the camera is known (status line, progress events). */
  readonly onTracker?: (tracker: StatusTracker, emit: Emit) => void;
  /** Resolves to stop gracefully (besides SIGTERM/SIGINT); the demo uses it. */
  readonly stopWhen?: Promise<unknown>;
}

const FFMPEG_STOP_GRACE_MS = 2000;
const SESSION_END_TIMEOUT_MS = 1000;

/**
 * One camera relay, start to exit: sweep and recover, register, capture into the spool while
 * uploading, and on a signal stop ffmpeg (closing its segment), drain, DELETE the session.
 * Returns the exit code; errors that end the run are thrown as RelayError.
 */
export async function runRelay(config: RelayConfig, hooks: RelayHooks): Promise<number> {
  const ffmpeg = await locateFfmpeg(config.ffmpeg);
  const cameraId = config.cameraId ?? deriveCameraId(config.source);
  const emit = hooks.bus.forCamera(cameraId);
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

  const spool = await Spool.create({ root: config.spoolDir, cameraId, maxBytes: config.maxSpoolBytes, emit });
  const prober = ffmpegProber(ffmpeg.path);
  const recovered = await sweepAndRecover({ spool, staleAfterMs: config.staleAfterMs, prober, emit });

  const transport: HttpTransport = new UndiciTransport({
    connectTimeoutMs: Math.min(10_000, config.uploadTimeoutMs),
  });
  const api = new CloudApi(config.cloud, config.token, cameraId);
  const backoff = {
    baseMs: config.retryBaseMs,
    capMs: config.retryMaxMs,
    retryAfterCapMs: config.retryAfterMaxMs,
  };
  let fatalError: RelayError | undefined;
  let fail!: (error: RelayError) => void;
  const fatal = new Promise<RelayError>((resolve) => {
    fail = (error) => {
      fatalError ??= error;
      resolve(error);
    };
  });

  const uploader = new Uploader({
    spool,
    api,
    transport,
    uploadTimeoutMs: config.uploadTimeoutMs,
    concurrency: config.uploadConcurrency,
    backoff,
    emit,
    beforeFirstUpload: (signal) =>
      register(transport, api, config, cameraId, emit, backoff, signal).catch((error: AuthError) =>
        fail(error),
      ),
    onAuthFailure: fail,
  });
  for (const record of recovered.adopted) uploader.enqueue(record);

  const supervisor = new CaptureSupervisor({
    ffmpeg,
    source: config.source,
    settings: {
      fps: config.fps,
      resolution: config.resolution,
      segmentDurationS: config.segmentDurationS,
      codec: config.codec,
      encoder: config.encoder,
      ioTimeoutS: config.ioTimeoutMs / 1000,
    },
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

  const tracker = new StatusTracker({
    pendingCount: () => spool.pendingCount,
    spoolBytes: () => spool.pendingBytes,
    retrying: () => uploader.retrying,
    delivered: () => uploader.delivered,
    bytesSent: () => uploader.bytesSent,
    fps: () => supervisor.running?.fps ?? 0,
  });
  const unsubscribe = hooks.bus.on((event) => {
    if (event.camera === cameraId) tracker.observe(event);
  });
  hooks.onTracker?.(tracker, emit);

  let signalled!: (signal: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    signalled = resolve;
  });
  const signals = new ShutdownSignals(signalled, (second) => {
    // Second signal: out at once. The journal on disk already describes every closed segment.
    supervisor.kill();
    emit({
      type: 'log',
      level: 'warn',
      message: `second ${second}: exiting now, spool kept in ${spool.dir}`,
    });
    process.exit(ExitCode.interrupted);
  }).install();

  try {
    const capture = supervisor.run();
    const outcome = await firstOf({
      capture: capture.then(
        (end) => ({ end }),
        (error: RelayError) => ({ error }),
      ),
      fatal,
      signal,
      external: hooks.stopWhen ?? new Promise<never>(() => {}),
    });

    if (outcome.which === 'fatal') {
      // Wrong key: stop capturing, keep everything spooled for a run with the right one.
      await supervisor.stop();
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
    const finished = outcome.which === 'capture';
    emit({
      type: 'state',
      state: 'draining',
      detail: finished ? 'source ended' : outcome.which === 'signal' ? `${outcome.value}` : 'stop requested',
    });
    await supervisor.stop();
    await capture.catch(() => undefined);
    // A finished file is drained completely (a signal still interrupts); a stop gets --drain-timeout.
    const drained = finished
      ? await Promise.race([
          uploader.drain(),
          signal.then(() => uploader.drain(config.drainTimeoutMs)),
          fatal.then(() => false),
        ])
      : await uploader.drain(config.drainTimeoutMs);
    await uploader.stop();
    if (fatalError) {
      emit({ type: 'state', state: 'failed', detail: fatalError.code });
      throw fatalError;
    }
    await endSession(transport, api, emit);
    const left = await spool.close();
    emit({
      type: 'state',
      state: 'stopped',
      detail:
        drained && left.removed
          ? 'all segments delivered'
          : `${left.pending} segment(s) left in ${spool.dir} for the next run`,
    });
    return ExitCode.ok;
  } finally {
    signals.dispose();
    unsubscribe();
    await spool.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  }
}

/** POST /api/cameras until it answers; a refused key is fatal, another refusal only a warning. */
async function register(
  transport: HttpTransport,
  api: CloudApi,
  config: RelayConfig,
  cameraId: string,
  emit: Emit,
  backoff: { baseMs: number; capMs: number; retryAfterCapMs: number },
  signal: AbortSignal,
): Promise<void> {
  const name = config.name ?? `trio-relay ${cameraId.slice(0, 8)}`;
  for (let attempt = 1; !signal.aborted; attempt++) {
    const verdict = classify(
      await transport.send(api.register(name, config.source.kind, config.uploadTimeoutMs)),
    );
    if (verdict.class === 'ok') {
      emit({ type: 'log', level: 'info', message: `camera ${cameraId} registered` });
      return;
    }
    if (verdict.class === 'auth') {
      throw new AuthError(verdict.status, redact(`${config.cloud}/api/cameras`));
    }
    if (verdict.class === 'reject') {
      emit({
        type: 'log',
        level: 'warn',
        message: `registration refused (HTTP ${verdict.status}); sending segments anyway`,
      });
      return;
    }
    const delayMs = backoffDelay(
      backoff,
      attempt,
      verdict.class === 'transient' ? verdict.retryAfterMs : undefined,
    );
    const message = `registration failed (${'reason' in verdict ? verdict.reason : ''}), retrying`;
    emit(
      attempt === 1
        ? { type: 'error', code: 'ERR_REGISTER', message }
        : { type: 'log', level: 'debug', message },
    );
    await sleep(delayMs, signal);
  }
}

/** Best effort, short: the cloud closes the ingest session; 204 or 404 are both fine. */
async function endSession(transport: HttpTransport, api: CloudApi, emit: Emit): Promise<void> {
  const outcome = await transport.send(api.endSession(SESSION_END_TIMEOUT_MS));
  if (outcome.kind === 'error' || (outcome.status >= 300 && outcome.status !== 404)) {
    emit({
      type: 'log',
      level: 'debug',
      message: `ending the ingest session failed: ${outcome.kind === 'error' ? outcome.code : outcome.status}`,
    });
  }
}
