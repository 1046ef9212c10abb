import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** What the figures were measured on: they mean little without it. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly ffmpeg: string;
  /** 1-minute load average when the run started: other work on the box skews absolute figures. */
  readonly loadAtStart: number;
}

export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    node: process.version,
    ffmpeg: ffmpegVersion(),
    loadAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

function ffmpegVersion(): string {
  try {
    const first = execFileSync(process.env.FFMPEG_PATH ?? 'ffmpeg', ['-version'], { encoding: 'utf8' }).split(
      '\n',
    )[0]!;
    return /ffmpeg version (\S+)/.exec(first)?.[1] ?? first;
  } catch {
    return 'not found';
  }
}
