import { redact } from '../redact.js';
import { round3 } from '../seconds.js';
import { runToCompletion } from './exec.js';
import { type CaptureSettings, inputArgs } from './ffmpeg-args.js';
import type { FfmpegBinary } from './ffmpeg-locate.js';
import { parseFramecrc } from './framecrc.js';
import type { Source } from './source.js';

/** What a few seconds of the source carry, as ffmpeg reads it with the relay's own input flags. */
export interface SourceSample {
  readonly codec: string;
  /** The first audio stream's codec (aac, pcm_alaw…), when the source has one. */
  readonly audioCodec?: string | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly fps?: number | undefined;
  readonly packets: number;
  /** Frames from one keyframe to the next, when at least two keyframes were seen. */
  readonly keyframeInterval?: number | undefined;
  /** The same in seconds (from the packets' timestamps). */
  readonly keyframeIntervalS?: number | undefined;
}

export type SourceSampleResult =
  | { readonly ok: true; readonly sample: SourceSample }
  | { readonly ok: false; readonly reason: string };

/**
 * Read `seconds` of the source's first video stream without decoding (`-c copy -f framecrc`):
 * the stream line on stderr gives codec, size and rate; the packet lines give the keyframes
 * (see parsePackets).
 */
export async function sampleSource(
  ffmpeg: FfmpegBinary,
  source: Source,
  settings: CaptureSettings,
  seconds: number,
  signal?: AbortSignal,
): Promise<SourceSampleResult> {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'info'],
    ...inputArgs({ source, settings, rtspTimeoutFlag: ffmpeg.rtspTimeoutFlag }),
    ...['-t', String(seconds), '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-'],
  ];
  const timeoutMs = (seconds + settings.ioTimeoutS + 10) * 1000;
  const result = await runToCompletion(ffmpeg.path, args, timeoutMs, signal);
  const stream = /Stream #\d+:\d+\S*: Video: (\w+)([^\n]*)/.exec(result.stderr);
  const audio = /Stream #\d+:\d+\S*: Audio: (\w+)/.exec(result.stderr);
  const size = stream ? /, (\d{2,5})x(\d{2,5})\b/.exec(stream[2]!) : null;
  const rate = stream ? /, ([\d.]+) fps\b/.exec(stream[2]!) : null;
  const packets = parsePackets(result.stdout);
  if (!stream || packets.length === 0) {
    // ffmpeg prefixes its error with the input URL, which the caller shows already.
    const last = (result.stderr.trim().split('\n').at(-1) ?? '').replace(`${source.input}: `, '');
    const why = result.incomplete
      ? `no video within ${Math.round(timeoutMs / 1000)} s`
      : last || 'no video stream';
    return { ok: false, reason: redact(why) };
  }
  const frames = toFrames(packets);
  const keyIndexes = frames.flatMap((f, i) => (f.key ? [i] : []));
  const [k1, k2] = keyIndexes;
  return {
    ok: true,
    sample: {
      codec: stream[1]!,
      audioCodec: audio?.[1],
      width: size ? Number(size[1]) : undefined,
      height: size ? Number(size[2]) : undefined,
      fps: rate ? Number(rate[1]) : undefined,
      packets: packets.length,
      keyframeInterval: k1 !== undefined && k2 !== undefined ? k2 - k1 : undefined,
      keyframeIntervalS:
        k1 !== undefined && k2 !== undefined ? round3(frames[k2]!.ptsS - frames[k1]!.ptsS) : undefined,
    },
  };
}

function parsePackets(framecrc: string): { ptsS: number; key: boolean }[] {
  const { timebase, packets } = parseFramecrc(framecrc);
  return packets.map((p) => ({ ptsS: p.pts * timebase, key: p.key }));
}

/** Packets of one timestamp are one frame (an RTSP camera's keyframe often comes as two). */
function toFrames(packets: readonly { ptsS: number; key: boolean }[]): { ptsS: number; key: boolean }[] {
  const frames: { ptsS: number; key: boolean }[] = [];
  for (const p of packets) {
    const last = frames.at(-1);
    if (last && last.ptsS === p.ptsS) last.key ||= p.key;
    else frames.push({ ...p });
  }
  return frames;
}
