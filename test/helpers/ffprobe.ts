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
