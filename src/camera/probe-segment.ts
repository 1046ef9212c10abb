import { runToCompletion } from './exec.js';

export interface VideoProbe {
  /** Video packets that demux cleanly. */
  readonly packets: number;
  readonly durationS: number;
}

/** Probes a (possibly truncated) MPEG-TS file with ffmpeg itself: ffprobe is not always there. */
export type SegmentProber = (file: string) => Promise<VideoProbe>;

/** Demux the video stream to framecrc (one line per packet) and measure what is there. */
export function ffmpegProber(ffmpegPath: string): SegmentProber {
  return async (file) => {
    const args = [
      '-hide_banner',
      '-nostdin',
      '-v',
      'error',
      '-i',
      file,
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'framecrc',
      '-',
    ];
    const result = await runToCompletion(ffmpegPath, args, 30_000);
    if (result.failed && result.exitCode !== 0 && !result.stdout) return { packets: 0, durationS: 0 };
    let timebase = 1 / 90_000;
    let first: number | undefined;
    let last = 0;
    let packets = 0;
    for (const line of result.stdout.split('\n')) {
      const tb = /^#tb 0: (\d+)\/(\d+)/.exec(line);
      if (tb) timebase = Number(tb[1]) / Number(tb[2]);
      const fields = line.split(',').map((f) => f.trim());
      if (line.startsWith('#') || fields.length < 5) continue;
      const pts = Number(fields[2]);
      const duration = Number(fields[3]);
      if (!Number.isFinite(pts)) continue;
      packets++;
      first ??= pts;
      last = Math.max(last, pts + (Number.isFinite(duration) ? duration : 0));
    }
    return { packets, durationS: first === undefined ? 0 : Math.max(0, (last - first) * timebase) };
  };
}
