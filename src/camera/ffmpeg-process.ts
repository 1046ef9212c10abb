import { createInterface } from 'node:readline';
import { redact } from '../redact.js';
import { type Child, spawnChild } from './exec.js';
import { parseSegmentListLine, type SegmentListEntry } from './segment-list.js';

/** How one ffmpeg run ended, as one object (execa-style flags). */
export interface FfmpegExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** We asked it to stop (SIGINT). */
  readonly stopped: boolean;
  /** It did not stop in time and was SIGKILLed. */
  readonly killed: boolean;
  readonly segments: number;
  /** Last stderr lines, passwords and token masked. */
  readonly stderrTail: readonly string[];
}

const STDERR_LINES = 20;
/**
 * A graceful stop waits at most this long (and at most half its grace) for ffmpeg to catch up
 * with what the camera already sent: SIGINT makes ffmpeg stop reading at once, so whatever it
 * had read but not yet muxed — a whole probe's worth just after a start — would be lost.
 */
const CATCH_UP_MAX_MS = 1500;
/** Output this close behind the moment of the stop counts as caught up (a frame or two). */
const CATCH_UP_SLACK_S = 0.25;

export interface StopOptions {
  /** Wait for ffmpeg to mux what it already read first (not for a stalled ffmpeg). @default true */
  readonly catchUp?: boolean;
}

/** One ffmpeg process: segment announcements in, exit report out. */
export class FfmpegRun {
  readonly #child: Child;
  readonly #stderr: string[] = [];
  readonly #exited: Promise<FfmpegExit>;
  #segments = 0;
  #stopped = false;
  #killed = false;
  /** Monotonic ms (performance.now) of the spawn and of ffmpeg's last output line. */
  readonly #spawnedAt = performance.now();
  readonly #spawnedWallMs = Date.now();
  #lastOutputAt = this.#spawnedAt;
  #fps = 0;
  /** Lowest (seconds since spawn − output time) seen: when output time 0 was captured, at the latest. */
  #minLagS = Number.POSITIVE_INFINITY;
  /** Output time (s) of ffmpeg's last progress report. */
  #outTimeS = Number.NEGATIVE_INFINITY;
  #ended = false;
  /** Wall clock (ms) of the SIGINT: ffmpeg read nothing the camera sent after it. */
  #interruptedWallMs: number | undefined;
  #reportWaiters: (() => void)[] = [];
  #interrupting: Promise<void> | undefined;

  private constructor(child: Child, onSegment: (entry: SegmentListEntry) => Promise<void>) {
    this.#child = child;
    let chain = Promise.resolve();
    const stdout = createInterface({ input: child.stdout! });
    stdout.on('line', (line) => {
      this.#lastOutputAt = performance.now();
      const entry = parseSegmentListLine(line);
      if (!entry) return;
      this.#segments++;
      // Segments are handed on strictly in order, each after the previous one was spooled.
      chain = chain.then(() => onSegment(entry));
    });
    const stdoutClosed = new Promise<void>((resolve) => stdout.once('close', resolve));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.#lastOutputAt = performance.now();
      // `-progress pipe:2` key=value lines: numbers for the status line, not log lines.
      const progress = /^(\w+)=(.*)$/.exec(line);
      if (progress) {
        const value = Number(progress[2]);
        if (progress[1] === 'fps' && Number.isFinite(value)) this.#fps = value;
        else if (progress[1] === 'out_time_us' && Number.isFinite(value)) this.#outputTime(value / 1e6);
        return;
      }
      if (!line.trim()) return;
      this.#stderr.push(redact(line));
      if (this.#stderr.length > STDERR_LINES) this.#stderr.shift();
    });
    this.#exited = (async () => {
      const result = await child;
      this.#ended = true;
      await stdoutClosed;
      await chain;
      return {
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        stopped: this.#stopped,
        killed: this.#killed,
        segments: this.#segments,
        stderrTail: [...this.#stderr],
      };
    })();
  }

  static async start(
    file: string,
    args: readonly string[],
    onSegment: (e: SegmentListEntry) => Promise<void>,
  ) {
    return new FfmpegRun((await spawnChild(file, args)).child, onSegment);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }
  get segments(): number {
    return this.#segments;
  }
  /** Encoding rate ffmpeg last reported. */
  get fps(): number {
    return this.#fps;
  }
  /** We asked it to stop: what it lists from now on is its last, possibly empty, segment. */
  get stopRequested(): boolean {
    return this.#stopped;
  }
  /** When it was told to stop reading (SIGINT), if it was. */
  get interruptedAt(): Date | undefined {
    return this.#interruptedWallMs === undefined ? undefined : new Date(this.#interruptedWallMs);
  }
  /** Monotonic ms (performance.now) of ffmpeg's last line on stdout or stderr. */
  get lastOutputAt(): number {
    return this.#lastOutputAt;
  }
  get exited(): Promise<FfmpegExit> {
    return this.#exited;
  }

  /**
   * SIGINT makes ffmpeg close and list its current segment; SIGKILL if it has not exited within
   * `graceMs` of the stop (a dead network read). Before the SIGINT, ffmpeg may use part of the
   * grace to catch up with what the camera sent before the stop. Resolves once every announced
   * segment was handed on.
   */
  async stop(graceMs: number, options: StopOptions = {}): Promise<FfmpegExit> {
    this.#interrupting ??= this.#interrupt(graceMs, options.catchUp ?? true);
    return this.#exited;
  }

  async #interrupt(graceMs: number, catchUp: boolean): Promise<void> {
    const requestedAt = performance.now();
    if (catchUp) await this.#caughtUp(Math.min(CATCH_UP_MAX_MS, graceMs / 2));
    if (this.#killed) return;
    this.#stopped = true;
    this.#interruptedWallMs = Date.now();
    this.#child.kill('SIGINT');
    const timer = setTimeout(
      () => {
        this.#killed = true;
        this.#child.kill('SIGKILL');
      },
      Math.max(0, graceMs - (performance.now() - requestedAt)),
    );
    void this.#exited.finally(() => clearTimeout(timer));
  }

  /**
   * Resolves once a progress report made after now shows ffmpeg's output reaching the moment of
   * the stop (output time = seconds since spawn), or after `maxMs`, or when ffmpeg exits. Right
   * after a start ffmpeg has read seconds of video while probing the stream and muxes it in a
   * burst; later, its output trails the camera by its own pipeline (ffmpeg 4.1: ~0.5 s). Waiting
   * for the moment itself, not for "caught up as usual", keeps that pipeline's video too; the
   * time ffmpeg took to connect only makes the wait a little longer, within `maxMs`.
   */
  async #caughtUp(maxMs: number): Promise<void> {
    const targetS = (performance.now() - this.#spawnedAt) / 1000 - CATCH_UP_SLACK_S;
    const deadline = performance.now() + maxMs;
    while (!this.#ended && performance.now() < deadline) {
      await this.nextReport(deadline - performance.now());
      if (this.#outTimeS >= targetS) return;
    }
  }

  /** A progress report's output time (seconds of video muxed so far in this run). */
  #outputTime(outTimeS: number): void {
    this.#minLagS = Math.min(this.#minLagS, (performance.now() - this.#spawnedAt) / 1000 - outTimeS);
    this.#outTimeS = outTimeS;
    for (const wake of this.#reportWaiters.splice(0)) wake();
  }

  /**
   * Best estimate of the wall clock (ms) at which output time 0 was captured: the earliest that
   * any progress report allows (output is written after it is captured, never before). Undefined
   * before the first report.
   */
  get originWallMs(): number | undefined {
    return Number.isFinite(this.#minLagS) ? this.#spawnedWallMs + this.#minLagS * 1000 : undefined;
  }

  /** Resolves at ffmpeg's next progress report (every 0.5 s), its exit, or after `maxMs`. */
  nextReport(maxMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#reportWaiters.push(wake);
      void this.#exited.then(wake, wake);
    });
  }

  /** Kill at once (second signal, or the relay is going down hard). */
  kill(): void {
    this.#killed = true;
    this.#child.kill('SIGKILL');
  }
}
