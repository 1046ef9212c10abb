import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackoffPolicy, sleep } from '../backoff.js';
import { CaptureError } from '../errors.js';
import { segmentSequence } from '../spool/naming.js';
import { type SegmentProber, salvagePartial, settleSalvage } from '../spool/salvage.js';
import type { CaptureSpool } from '../spool/spool.js';
import type { Emit } from '../telemetry/events.js';
import type { UncapturedReason } from '../types.js';
import { cameraRefusal } from './camera-refusal.js';
import { buildFfmpegArgs, type CaptureSettings } from './ffmpeg-args.js';
import type { FfmpegBinary } from './ffmpeg-locate.js';
import { type FfmpegExit, FfmpegRun } from './ffmpeg-process.js';
import { tcpProbe } from './reachability.js';
import { nextRestart } from './restart-plan.js';
import type { SegmentListEntry } from './segment-list.js';
import type { Source } from './source.js';
import { WallClock } from './wall-clock.js';

/** An absent camera is probed every probeIntervalMs for this long, then a third as often. */
const PROBE_SLOWER_AFTER_MS = 60_000;

/**
 * How long until the next probe of a camera away for `awayMs`: every `baseMs` for its first minute
 * away, so a camera back from a reboot is found within a second; then every 3 × `baseMs`
 * (switched off, unplugged), since on an idle box each wake-up is most of the relay's CPU.
 */
export function probeDelayMs(awayMs: number, baseMs: number): number {
  return awayMs < PROBE_SLOWER_AFTER_MS ? baseMs : 3 * baseMs;
}

export interface SupervisorOptions {
  readonly ffmpeg: FfmpegBinary;
  readonly source: Source;
  readonly settings: CaptureSettings;
  readonly spool: CaptureSpool;
  readonly emit: Emit;
  /** Consecutive failed runs tolerated before giving up (Infinity: never). */
  readonly maxRestarts: number;
  readonly restartBackoff: BackoffPolicy;
  /** After the camera refused the credentials. @default CAMERA_AUTH_BACKOFF */
  readonly authBackoff?: BackoffPolicy;
  /** No closed segment for this long means ffmpeg is stuck. */
  readonly stallTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly probeIntervalMs: number;
  readonly prober: SegmentProber;
}

export type CaptureEnd = 'stopped' | 'ended';

/** The first segment of an ffmpeg run waits at most this for a progress report to anchor it. */
const FIRST_ANCHOR_WAIT_MS = 1000;

/**
 * A refused password is retried no sooner than `baseMs` and backs off to `capMs`: cameras lock an
 * account after a few failed logins in a row, and a relay retrying every second would do that.
 */
export const CAMERA_AUTH_BACKOFF: BackoffPolicy = { baseMs: 30_000, capMs: 600_000, retryAfterCapMs: 0 };

/**
 * Keeps one camera's ffmpeg running: restarts it with backoff when it exits, fails to connect
 * or stalls, probes an absent network camera so capture resumes as soon as it is back, and
 * salvages what a dead ffmpeg left unannounced. Uploads are not its business and go on meanwhile.
 */
export class CaptureSupervisor {
  readonly #o: SupervisorOptions;
  readonly #stopping = new AbortController();
  #run: FfmpegRun | undefined;
  #clock = new WallClock();
  /** Names this ffmpeg run announced: only the others can be leftovers. */
  #announced = new Set<string>();
  #relaying = false;
  /** The watchdog stopped the current ffmpeg run. */
  #stalled = false;
  #stopGraceMs: number;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#stopGraceMs = options.stopGraceMs;
  }

  get running(): FfmpegRun | undefined {
    return this.#run;
  }

  async run(): Promise<CaptureEnd> {
    const { emit, source, maxRestarts } = this.#o;
    let failures = 0;
    let refusals = 0;
    while (!this.#stopping.signal.aborted) {
      const startNumber = this.#o.spool.nextSequence;
      const exit = await this.#runOnce(startNumber);
      await this.#salvageLeftovers(startNumber);
      if (this.#stopping.signal.aborted) break;
      if (!source.live && exit.exitCode === 0 && !exit.stopped) return 'ended';

      const refused = cameraRefusal(exit.stderrTail);
      const next = nextRestart(
        { failures, refusals },
        { segments: exit.segments, refused: refused !== undefined },
        {
          restartBackoff: this.#o.restartBackoff,
          authBackoff: this.#o.authBackoff ?? CAMERA_AUTH_BACKOFF,
          maxRestarts,
        },
      );
      ({ failures, refusals } = next);
      const { delayMs } = next;
      const detail = refused
        ? `camera ${source.display} refused the user/password in --source (${refused}): check them`
        : describeExit(exit);
      // A wrong password is one clear line per (slow) attempt, counted, not ffmpeg's noise.
      emit(
        refused
          ? {
              type: 'error',
              code: 'ERR_CAMERA_AUTH',
              message: `${detail}; refused ${refusals} time(s) in a row, next try in ${Math.round(delayMs / 1000)} s (slowly, so the camera does not lock the account)`,
            }
          : { type: 'error', code: 'ERR_FFMPEG_EXIT', message: detail },
      );
      // ENOSPC: make room the same way the size bound does, loudly.
      if (exit.stderrTail.some((l) => /No space left on device/i.test(l))) {
        await this.#o.spool.freeSpace('disk-full');
      }
      if (next.giveUp) {
        throw new CaptureError(
          `ffmpeg failed ${failures} times in a row, giving up (--max-restarts): ${detail}`,
        );
      }
      emit({ type: 'state', state: 'reconnecting', detail });
      emit({ type: 'ffmpeg', phase: 'restarting', delayMs });
      const reachable = await this.#waitBeforeRestart(delayMs);
      // Nothing is captured until the next run's first segment: that one declares the hole.
      this.#o.spool.expectHole(holeReason(exit, { refused: !!refused, stalled: this.#stalled, reachable }));
    }
    return 'stopped';
  }

  /**
   * Graceful: ffmpeg closes and lists its current segment, which is spooled before this resolves.
   * Resolves with the moment ffmpeg stopped reading the camera, when a running ffmpeg was stopped.
   */
  async stop(graceMs: number = this.#o.stopGraceMs): Promise<Date | undefined> {
    this.#stopping.abort();
    this.#stopGraceMs = graceMs;
    const run = this.#run;
    await run?.stop(graceMs);
    return run?.interruptedAt;
  }

  /** Immediate (second signal): nothing more is spooled. */
  kill(): void {
    this.#stopping.abort();
    this.#run?.kill();
  }

  async #runOnce(startNumber: number): Promise<FfmpegExit> {
    const { ffmpeg, source, settings, spool, emit } = this.#o;
    const args = buildFfmpegArgs({
      source,
      settings,
      rtspTimeoutFlag: ffmpeg.rtspTimeoutFlag,
      outputPattern: spool.outputPattern,
      startNumber,
    });
    this.#clock = new WallClock();
    this.#announced = new Set();
    this.#relaying = false;
    this.#stalled = false;
    emit({ type: 'state', state: 'connecting', detail: source.display });
    const run = await FfmpegRun.start(ffmpeg.path, args, (entry) => this.#onEntry(entry));
    this.#run = run;
    // A stop that came while ffmpeg was being spawned found no run to stop: stop this one now.
    if (this.#stopping.signal.aborted) void run.stop(this.#stopGraceMs, { catchUp: false });
    await spool.setFfmpegPid(run.pid);
    emit({ type: 'ffmpeg', phase: 'started', ...(run.pid === undefined ? {} : { pid: run.pid }) });
    const watchdog = this.#watch(run);
    const exit = await run.exited;
    clearInterval(watchdog);
    this.#run = undefined;
    await spool.setFfmpegPid(undefined);
    emit({
      type: 'ffmpeg',
      phase: 'exited',
      exitCode: exit.exitCode,
      signal: exit.signal,
      stderr: [...exit.stderrTail],
    });
    return exit;
  }

  async #onEntry(entry: SegmentListEntry): Promise<void> {
    const run = this.#run;
    if (this.#announced.size === 0 && run && !run.stopRequested) {
      // The first segment anchors the run's timeline. Right after a start it may close in the
      // burst that follows the probe, seconds after its video was captured; the next progress
      // report tells when output time 0 really was.
      await run.nextReport(FIRST_ANCHOR_WAIT_MS);
    }
    this.#announced.add(entry.name);
    const { start, clockJumpS } = this.#clock.place(entry.startS, entry.endS, run?.originWallMs);
    if (clockJumpS !== undefined) {
      // Counted from the `closed` event's clockJumpS; said here in words.
      this.#o.emit({
        type: 'log',
        level: 'warn',
        message: `the wall clock jumped ${clockJumpS > 0 ? '+' : ''}${clockJumpS} s (NTP or a manual change): marked on segment ${entry.name} as X-Segment-Clock-Jump`,
      });
    }
    const record = await this.#o.spool.addClosed({
      name: entry.name,
      start,
      durationS: entry.endS - entry.startS,
      clockJumpS,
      emptyIsLoss: !this.#run?.stopRequested,
      final: this.#stopping.signal.aborted,
    });
    if (!record) return;
    if (!this.#relaying) {
      this.#relaying = true;
      this.#o.emit({ type: 'state', state: 'relaying' });
    }
  }

  /**
   * Stall watchdog: no closed segment for stallTimeoutMs (plus connect time for the first one),
   * or no output at all (not even progress) for longer than the I/O timeout. On the monotonic
   * clock: a wall-clock jump (NTP, a manual change) is not a stall.
   */
  #watch(run: FfmpegRun): NodeJS.Timeout {
    const started = performance.now();
    let lastCount = 0;
    let lastAt = started;
    const firstAllowance = this.#o.settings.ioTimeoutS * 1000;
    return setInterval(
      () => {
        const now = performance.now();
        if (run.segments !== lastCount) {
          lastCount = run.segments;
          lastAt = now;
        }
        const limit = this.#o.stallTimeoutMs + (lastCount === 0 ? firstAllowance : 0);
        const silentMs = now - Math.max(run.lastOutputAt, started);
        if (now - lastAt > limit || silentMs > firstAllowance + 2000) {
          this.#o.emit({ type: 'ffmpeg', phase: 'stalled' });
          this.#o.emit({
            type: 'log',
            level: 'warn',
            message: `no segment from ffmpeg for ${Math.round((now - lastAt) / 1000)} s: restarting it`,
          });
          lastAt = now;
          this.#stalled = true;
          // Stuck: there is nothing to catch up with.
          void run.stop(this.#o.stopGraceMs, { catchUp: false });
        }
      },
      Math.min(1000, this.#o.stallTimeoutMs / 4),
    );
  }

  /**
   * Files an ffmpeg left unannounced (it was killed, or got the stop signal straight from
   * systemd or a shell's `kill 0`): keep what holds video; what held video that cannot be
   * decoded is recorded as lost capture, never dropped in silence.
   */
  async #salvageLeftovers(startNumber: number): Promise<void> {
    const { spool, emit, prober } = this.#o;
    let names: string[];
    try {
      names = await readdir(spool.dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const sequence = segmentSequence(name);
      if (sequence === undefined || sequence < startNumber || this.#announced.has(name)) continue;
      const target = {
        keep: (start: Date, durationS: number) =>
          spool.addClosed({ name, start, durationS, final: this.#stopping.signal.aborted }),
        recordLost: spool.recordLost.bind(spool),
      };
      const file = join(spool.dir, name);
      const salvage = await salvagePartial(file, prober).catch(() => undefined);
      if (!salvage) continue;
      // Kept in the spool, which offers it to delivery like any segment capture closed.
      await settleSalvage(salvage, file, sequence, this.#clock, target, emit);
    }
  }

  /**
   * Wait before the next ffmpeg start. When a network camera does not even accept a TCP connection,
   * poll it (every second, every 3 s once it has been away for a minute) and restart the moment it
   * answers, not at the end of the backoff (nor, with unlimited restarts, before it answers).
   * Resolves false when the camera was found unreachable.
   */
  async #waitBeforeRestart(delayMs: number): Promise<boolean> {
    const signal = this.#stopping.signal;
    const target = this.#o.source.probe;
    if (!target) {
      await sleep(delayMs, signal);
      return true;
    }
    const probe = () => tcpProbe(target.host, target.port, 1000);
    const deadline = performance.now() + delayMs;
    // Reachable: the trouble is elsewhere (a wrong path, the stream not ready), so back off fully.
    if (await probe()) {
      await sleep(Math.max(0, deadline - performance.now()), signal);
      return true;
    }
    this.#o.emit({
      type: 'log',
      level: 'info',
      message: `camera ${this.#o.source.display} unreachable: probing`,
    });
    const awaySince = performance.now();
    const interval = () => probeDelayMs(performance.now() - awaySince, this.#o.probeIntervalMs);
    while (!signal.aborted && performance.now() < deadline) {
      await sleep(Math.min(interval(), Math.max(0, deadline - performance.now())), signal);
      if (!signal.aborted && (await probe())) return false;
    }
    // Still refused after the backoff: a new ffmpeg would fail the same way, and each start forks
    // this whole process (~18 ms of CPU, most of an unreachable camera's cost). Go on probing
    // until the port answers, unless --max-restarts counts the attempts.
    if (Number.isFinite(this.#o.maxRestarts)) return false;
    while (!signal.aborted) {
      await sleep(interval(), signal);
      if (!signal.aborted && (await probe())) return false;
    }
    return false;
  }
}

/** Why nothing was captured between an ffmpeg run that ended and the next one. */
export function holeReason(
  exit: FfmpegExit,
  seen: { refused: boolean; stalled: boolean; reachable: boolean },
): UncapturedReason {
  if (seen.refused) return 'camera-refused';
  if (!seen.reachable) return 'camera-unreachable';
  if (seen.stalled) return 'camera-stalled';
  if (exit.stderrTail.some((l) => /No space left on device/i.test(l))) return 'ffmpeg-no-space';
  return 'ffmpeg-exited';
}

function describeExit(exit: FfmpegExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`;
  const last = exit.stderrTail.slice(-3).join(' | ');
  return `ffmpeg ended (${how})${last ? `: ${last}` : ''}`;
}
