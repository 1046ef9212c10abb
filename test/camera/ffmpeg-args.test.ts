import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, type CaptureSettings } from '../../src/camera/ffmpeg-args.js';
import { parseSource } from '../../src/camera/source.js';

const settings: CaptureSettings = {
  fps: 1,
  resolution: undefined,
  segmentDurationS: 10,
  codec: 'h264',
  encoder: 'libx264',
  audio: 'off',
  ioTimeoutS: 10,
};

function args(
  source: string,
  overrides: Partial<CaptureSettings> = {},
  flag: '-stimeout' | '-timeout' = '-timeout',
) {
  return buildFfmpegArgs({
    source: parseSource(source),
    settings: { ...settings, ...overrides },
    rtspTimeoutFlag: flag,
    outputPattern: '/spool/seg-%09d.ts',
    startNumber: 42,
  });
}

function flagValue(list: string[], flag: string): string | undefined {
  const i = list.indexOf(flag);
  return i < 0 ? undefined : list[i + 1];
}

describe('buildFfmpegArgs', () => {
  it('reads RTSP over TCP with a socket I/O timeout in µs, using the flag the ffmpeg build knows', () => {
    const five = args('rtsp://cam/stream');
    expect(flagValue(five, '-rtsp_transport')).toBe('tcp');
    expect(flagValue(five, '-timeout')).toBe('10000000');
    const four = args('rtsp://cam/stream', {}, '-stimeout');
    expect(flagValue(four, '-stimeout')).toBe('10000000');
    expect(four).not.toContain('-timeout');
  });

  it('keeps the last frames before a stop: RTSP probed from its first packet, slice-threaded decoding', () => {
    const a = args('rtsp://cam/stream');
    expect(flagValue(a, '-probesize')).toBe('32');
    expect(flagValue(a, '-thread_type')).toBe('slice');
    // Both are input options: before -i.
    expect(a.indexOf('-probesize')).toBeLessThan(a.indexOf('-i'));
    expect(a.indexOf('-thread_type')).toBeLessThan(a.indexOf('-i'));
    // Nothing decoded with --codec copy, whose muxer needs the size the probe finds.
    const copy = args('rtsp://cam/stream', { codec: 'copy' });
    expect(copy).not.toContain('-thread_type');
    expect(copy).not.toContain('-probesize');
    // Other sources are probed as usual.
    expect(args('http://cam/video.ts')).not.toContain('-probesize');
  });

  it('encodes like the Python relay: H.264 baseline at --fps, GOP 2×fps, no audio', () => {
    const a = args('rtsp://cam/stream', { fps: 5 });
    expect(flagValue(a, '-c:v')).toBe('libx264');
    expect(flagValue(a, '-profile:v')).toBe('baseline');
    expect(flagValue(a, '-r')).toBe('5');
    expect(flagValue(a, '-g')).toBe('10');
    expect(a).toContain('-an');
    expect(flagValue(a, '-force_key_frames')).toBe('expr:gte(t,n_forced*10)');
  });

  it('scales to --resolution and passes the stream through with --codec copy', () => {
    expect(flagValue(args('rtsp://cam/s', { resolution: { width: 640, height: 360 } }), '-vf')).toBe(
      'scale=640:360',
    );
    const copy = args('rtsp://cam/s', { codec: 'copy' });
    expect(flagValue(copy, '-c:v')).toBe('copy');
    expect(copy).not.toContain('-g');
  });

  it('cuts segments with the csv list on stdout, continuing the sequence, without resetting timestamps', () => {
    const a = args('testsrc');
    expect(flagValue(a, '-f')).toBe('lavfi');
    expect(flagValue(a, '-segment_list')).toBe('pipe:1');
    expect(flagValue(a, '-segment_list_type')).toBe('csv');
    expect(flagValue(a, '-segment_format_options')).toBe('flush_packets=1');
    expect(flagValue(a, '-segment_start_number')).toBe('42');
    expect(flagValue(a, '-segment_time')).toBe('10');
    expect(a).not.toContain('-reset_timestamps');
    expect(a.at(-1)).toBe('/spool/seg-%09d.ts');
  });

  it('reads files at native speed and V4L2 devices with -f v4l2', () => {
    expect(args('/dev/video0')).toEqual(expect.arrayContaining(['-f', 'v4l2', '-i', '/dev/video0']));
    expect(args('2')).toEqual(expect.arrayContaining(['-i', '/dev/video2']));
    expect(args(import.meta.filename).slice(0, 12)).toContain('-re');
  });

  it('drops audio by default, copies or encodes the first audio track when asked (if there is one)', () => {
    expect(args('rtsp://cam/s')).toContain('-an');
    const copy = args('rtsp://cam/s', { audio: 'copy', codec: 'copy' });
    expect(copy).not.toContain('-an');
    expect(copy.join(' ')).toContain('-map 0:v:0 -map 0:a:0? -c:a copy');
    const aac = args('rtsp://cam/s', { audio: 'aac' });
    expect(aac.join(' ')).toContain('-map 0:a:0? -c:a aac -b:a 64k');
    // Video is still cut at forced keyframes: audio does not change where segments start.
    expect(flagValue(aac, '-force_key_frames')).toBe('expr:gte(t,n_forced*10)');
  });

  it('selects a hardware encoder', () => {
    expect(flagValue(args('testsrc', { encoder: 'h264_nvenc' }), '-c:v')).toBe('h264_nvenc');
    const vaapi = args('testsrc', { encoder: 'h264_vaapi', resolution: { width: 1280, height: 720 } });
    expect(flagValue(vaapi, '-vf')).toBe('scale=1280:720,format=nv12,hwupload');
  });
});
