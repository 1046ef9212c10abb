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

/** One ffmpeg process: segment announcements in, exit report out. */
export class FfmpegRun {
  readonly #child: Child;
  readonly #stderr: string[] = [];
  readonly #exited: Promise<FfmpegExit>;
  #segments = 0;
  #stopped = false;
  #killed = false;
  #lastOutputAt = Date.now();
  #fps = 0;

  private constructor(child: Child, onSegment: (entry: SegmentListEntry) => Promise<void>) {
    this.#child = child;
    let chain = Promise.resolve();
    const stdout = createInterface({ input: child.stdout! });
    stdout.on('line', (line) => {
      this.#lastOutputAt = Date.now();
      const entry = parseSegmentListLine(line);
      if (!entry) return;
      this.#segments++;
      // Segments are handed on strictly in order, each after the previous one was spooled.
      chain = chain.then(() => onSegment(entry));
    });
    const stdoutClosed = new Promise<void>((resolve) => stdout.once('close', resolve));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.#lastOutputAt = Date.now();
      // `-progress pipe:2` key=value lines: numbers for the status line, not log lines.
      const progress = /^(\w+)=(.*)$/.exec(line);
      if (progress) {
        if (progress[1] === 'fps' && Number.isFinite(Number(progress[2]))) this.#fps = Number(progress[2]);
        return;
      }
      if (!line.trim()) return;
      this.#stderr.push(redact(line));
      if (this.#stderr.length > STDERR_LINES) this.#stderr.shift();
    });
    this.#exited = (async () => {
      const result = await child;
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
  get lastOutputAt(): number {
    return this.#lastOutputAt;
  }
  get exited(): Promise<FfmpegExit> {
    return this.#exited;
  }

  /**
   * SIGINT makes ffmpeg close and list its current segment; SIGKILL after `graceMs` if it hangs
   * (a dead network read). Resolves once every announced segment was handed on.
   */
  async stop(graceMs: number): Promise<FfmpegExit> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => {
        this.#killed = true;
        this.#child.kill('SIGKILL');
      }, graceMs);
      void this.#exited.finally(() => clearTimeout(timer));
    }
    return this.#exited;
  }

  /** Kill at once (second signal, or the relay is going down hard). */
  kill(): void {
    this.#killed = true;
    this.#child.kill('SIGKILL');
  }
}
