import { execFile } from 'node:child_process';

export interface SegmentProbe {
  /** ffprobe's format_name: `mpegts` for every segment that passes. */
  format: string;
  /** Codec of the first video stream (`h264`), or null when the file has no video stream. */
  videoCodec: string | null;
  /** Whether the segment starts on a keyframe, i.e. can be decoded on its own. */
  firstVideoPacketIsKeyframe: boolean;
  /** Container duration in seconds (from the video packets when the container has none). */
  durationS: number;
  videoPackets: number;
}

interface ProbeJson {
  format?: { format_name?: string; duration?: string };
  streams?: Array<{ codec_type?: string; codec_name?: string; time_base?: string }>;
  packets?: Array<{ flags?: string; pts_time?: string; duration_time?: string }>;
}

/**
 * Inspect a segment with the ffprobe on PATH (Debian's 5.1; 4.1 prints the same JSON).
 * Throws with ffprobe's stderr when the file cannot be read or is not MPEG-TS.
 */
export async function probeSegment(file: string): Promise<SegmentProbe> {
  const args = ['-v', 'error', '-show_format', '-show_streams', '-show_packets', '-select_streams', 'v'];
  const { stdout, stderr } = await run('ffprobe', [...args, '-of', 'json', file]);
  let data: ProbeJson;
  try {
    data = JSON.parse(stdout) as ProbeJson;
  } catch {
    throw new Error(`ffprobe ${file}: unreadable output\n${stderr}`);
  }
  const format = data.format?.format_name ?? '';
  if (format !== 'mpegts') throw new Error(`ffprobe ${file}: format is '${format}', not mpegts\n${stderr}`);
  const packets = data.packets ?? [];
  const video = (data.streams ?? []).find((s) => s.codec_type === 'video');
  return {
    format,
    videoCodec: video?.codec_name ?? null,
    // 4.1 prints flags as `K_`, 5.1 as `K__` (a discard flag was added): only the K counts.
    firstVideoPacketIsKeyframe: packets[0]?.flags?.startsWith('K') ?? false,
    durationS: seconds(data.format?.duration) ?? packetSpan(packets),
    videoPackets: packets.length,
  };
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${file} ${args.at(-1)} failed (${error.code ?? error.signal}): ${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function seconds(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) ? n : undefined;
}

/** Last packet end minus first packet start, for containers that report no duration. */
function packetSpan(packets: NonNullable<ProbeJson['packets']>): number {
  const starts = packets.map((p) => seconds(p.pts_time)).filter((t) => t !== undefined);
  if (starts.length === 0) return 0;
  const last = packets.at(-1);
  const end = Math.max(...starts) + (seconds(last?.duration_time) ?? 0);
  return end - Math.min(...starts);
}

/** The video a segment holds on its own timeline, read from its packets (not from any header). */
export interface PtsRange {
  /** PTS of the earliest video packet, seconds. */
  startS: number;
  /** PTS where the last video frame ends (its PTS plus one frame interval), seconds. */
  endS: number;
  /** Median distance between consecutive frames, seconds (0 for a single frame). */
  frameS: number;
  frames: number;
}

/**
 * The PTS range of the video in an MPEG-TS file (possibly truncated), or null when it holds no
 * video frame. MPEG-TS packets carry no duration, so a frame lasts until the next one.
 */
export async function probePts(file: string): Promise<PtsRange | null> {
  // -f mpegts: a short segment (a few packets) is otherwise taken for MPEG-PS and not read.
  const args = ['-v', 'error', '-f', 'mpegts', '-select_streams', 'v', '-show_entries', 'packet=pts_time'];
  args.push('-of', 'csv=p=0');
  const { stdout } = await run('ffprobe', [...args, file]);
  const pts = stdout
    .split('\n')
    .map((line) => seconds(line.split(',')[0]?.trim()))
    .filter((t) => t !== undefined)
    .sort((a, b) => a - b);
  if (pts.length === 0) return null;
  const steps = pts
    .slice(1)
    .map((t, i) => t - pts[i]!)
    .sort((a, b) => a - b);
  const frameS = steps.length > 0 ? steps[Math.floor(steps.length / 2)]! : 0;
  return { startS: pts[0]!, endS: pts.at(-1)! + frameS, frameS, frames: pts.length };
}

/** A media file's duration in seconds as its container states it (any format ffprobe reads). */
export async function probeDuration(file: string): Promise<number> {
  const args = ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file];
  const { stdout } = await run('ffprobe', args);
  const duration = seconds(stdout.trim());
  if (duration === undefined) throw new Error(`ffprobe ${file}: no duration in ${JSON.stringify(stdout)}`);
  return duration;
}

/** A segment's audio: its first audio stream's codec (null: none) and its decoded packets. */
export interface AudioProbe {
  codec: string | null;
  /** Audio packets ffmpeg decoded from the segment without an error. */
  packets: number;
  /** What ffmpeg said while decoding the whole segment (video and audio): empty when clean. */
  decodeErrors: string;
}

/** Decode a segment on its own (as a player would, from its first byte) and read its audio. */
export async function probeAudio(file: string): Promise<AudioProbe> {
  const streams = ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=codec_name'];
  const { stdout } = await run('ffprobe', [...streams, '-of', 'csv=p=0', file]);
  const count = ['-v', 'error', '-select_streams', 'a:0', '-count_packets', '-show_entries'];
  const counted = await run('ffprobe', [...count, 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  const decoded = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-']);
  return {
    codec: stdout.trim().split('\n')[0]?.trim() || null,
    // The stream is listed twice (in its program and on its own): the first line is enough.
    packets: Number(counted.stdout.trim().split('\n')[0]) || 0,
    decodeErrors: decoded.stderr.trim(),
  };
}
