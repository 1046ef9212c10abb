import type { Source } from './source.js';

export type Codec = 'h264' | 'copy';
/** The camera's first audio track: dropped (as the Python relay), passed through, or encoded to AAC. */
export const AUDIO_MODES = ['off', 'copy', 'aac'] as const;
export type AudioMode = (typeof AUDIO_MODES)[number];
export const HARDWARE_ENCODERS = ['h264_v4l2m2m', 'h264_vaapi', 'h264_nvenc', 'h264_qsv'] as const;
/** Every H.264 encoder --encoder takes: the software one first (the default), then the hardware ones. */
export const ENCODERS = ['libx264', ...HARDWARE_ENCODERS] as const;
export type Encoder = (typeof ENCODERS)[number];

export interface Resolution {
  readonly width: number;
  readonly height: number;
}

export interface CaptureSettings {
  readonly fps: number;
  readonly resolution: Resolution | undefined;
  readonly segmentDurationS: number;
  readonly codec: Codec;
  readonly encoder: Encoder;
  readonly audio: AudioMode;
  /** Socket I/O timeout for network sources, so a silent camera makes ffmpeg exit. */
  readonly ioTimeoutS: number;
}

export interface FfmpegArgsInput {
  readonly source: Source;
  readonly settings: CaptureSettings;
  readonly rtspTimeoutFlag: '-stimeout' | '-timeout';
  /** Output path pattern with one `%0Nd` (the segment sequence). */
  readonly outputPattern: string;
  /** First sequence number: past every name still pending, so a restart never overwrites one. */
  readonly startNumber: number;
}

/** Build ffmpeg's argv (pure): input, encoding, then the segment muxer announcing on stdout. */
export function buildFfmpegArgs(input: FfmpegArgsInput): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'warning',
    // key=value progress on stderr: the live fps, and proof of life between segments.
    '-progress',
    'pipe:2',
    ...tailKeepingArgs(input),
    ...inputArgs(input),
    '-map',
    '0:v:0',
    ...audioArgs(input.settings.audio),
    ...encodeArgs(input.settings),
    ...segmentArgs(input),
  ];
}

/**
 * A stop interrupts ffmpeg (SIGINT), and an interrupted ffmpeg flushes its encoders but drops
 * the frames still ahead of them. When it decodes, two places held the last frames the camera
 * sent before a stop (a 10 fps camera, SIGINT after 5 s):
 * - the decoder's frame threads, a frame per thread (0.2 s, ffmpeg 5.1 and 4.1): slice threads
 *   decode without holding frames, in parallel where the camera encodes slices;
 * - ffmpeg 4.x's RTSP input keeps what it read while probing queued ahead of everything it reads
 *   later, for the whole run (0.5 s): probing only the first packet leaves no queue (5.1 reads the
 *   same either way). The SDP names the codecs and the decoder finds the size in the frames.
 * Not with `--codec copy`: nothing is held there, and the segment muxer needs the size the probe
 * finds. Capture only: `doctor` probes with `inputArgs` alone, to report the stream in full.
 */
function tailKeepingArgs({ source, settings }: Pick<FfmpegArgsInput, 'source' | 'settings'>): string[] {
  if (settings.codec === 'copy') return [];
  return [...(source.kind === 'rtsp' ? ['-probesize', '32'] : []), '-thread_type', 'slice'];
}

/** How ffmpeg opens the source (also what `doctor` probes it with, so both see the same). */
export function inputArgs({
  source,
  settings,
  rtspTimeoutFlag,
}: Pick<FfmpegArgsInput, 'source' | 'settings' | 'rtspTimeoutFlag'>): string[] {
  const ioTimeoutUs = String(Math.round(settings.ioTimeoutS * 1_000_000));
  switch (source.kind) {
    case 'rtsp':
      return ['-rtsp_transport', 'tcp', rtspTimeoutFlag, ioTimeoutUs, '-i', source.input];
    case 'http':
      return ['-rw_timeout', ioTimeoutUs, '-i', source.input];
    case 'file':
      // -re: read at native speed, so a file behaves like the camera it stands in for.
      return ['-re', '-i', source.input];
    case 'v4l2':
      return ['-f', 'v4l2', '-i', source.input];
    case 'testsrc': {
      const { width, height } = settings.resolution ?? { width: 640, height: 360 };
      const rate = Math.max(settings.fps, 1);
      return ['-re', '-f', 'lavfi', '-i', `${source.input}=size=${width}x${height}:rate=${rate}`];
    }
  }
}

/**
 * The first audio stream, if the source has one (`?`: a camera without audio is no error). Only
 * video is cut at keyframes: audio packets simply follow into whichever segment is open.
 * `copy` keeps the camera's codec, which MPEG-TS carries for AAC, MP3 and AC-3 but not for
 * G.711 (pcm_mulaw/pcm_alaw would be muxed as an unreadable data stream): such cameras need
 * `aac`, and `doctor` says so.
 */
function audioArgs(audio: AudioMode): string[] {
  switch (audio) {
    case 'off':
      return ['-an'];
    case 'copy':
      return ['-map', '0:a:0?', '-c:a', 'copy'];
    case 'aac':
      // ffmpeg's native encoder (4.1 and 5.1 alike); 64 kbit/s is plenty for a camera microphone.
      return ['-map', '0:a:0?', '-c:a', 'aac', '-b:a', '64k'];
  }
}

function encodeArgs(settings: CaptureSettings): string[] {
  if (settings.codec === 'copy') return ['-c:v', 'copy'];
  const gop = String(Math.max(1, Math.round(settings.fps * 2)));
  const scale = settings.resolution
    ? `scale=${settings.resolution.width}:${settings.resolution.height}`
    : undefined;
  const args: string[] = [];
  switch (settings.encoder) {
    case 'libx264':
      args.push('-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline');
      args.push(...(scale ? ['-vf', scale] : []), '-pix_fmt', 'yuv420p');
      break;
    case 'h264_vaapi':
      args.push('-vaapi_device', '/dev/dri/renderD128');
      args.push('-vf', [scale, 'format=nv12', 'hwupload'].filter(Boolean).join(','), '-c:v', 'h264_vaapi');
      break;
    default:
      args.push(...(scale ? ['-vf', scale] : []), '-pix_fmt', 'yuv420p', '-c:v', settings.encoder);
      args.push('-profile:v', 'baseline');
  }
  // GOP = 2×fps as the Python relay, plus a keyframe at every segment boundary so each segment
  // starts with one and is cut at the requested duration.
  args.push('-r', String(settings.fps), '-g', gop);
  args.push('-force_key_frames', `expr:gte(t,n_forced*${settings.segmentDurationS})`);
  return args;
}

function segmentArgs({ settings, outputPattern, startNumber }: FfmpegArgsInput): string[] {
  return [
    '-f',
    'segment',
    '-segment_format',
    'mpegts',
    // Each packet goes through to the file as it is muxed: a SIGKILL leaves on disk what was
    // captured, for salvage, instead of an empty file behind ffmpeg's 32 KiB output buffer. The
    // option must reach the mpegts sub-muxer; a top-level -flush_packets does not (5.1 and 4.1).
    '-segment_format_options',
    'flush_packets=1',
    '-segment_time',
    String(settings.segmentDurationS),
    // Each closed segment is announced as "name,start,end" on stdout: no directory polling.
    '-segment_list',
    'pipe:1',
    '-segment_list_type',
    'csv',
    '-segment_start_number',
    String(startNumber),
    outputPattern,
  ];
}
