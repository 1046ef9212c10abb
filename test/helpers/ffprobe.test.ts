import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeSegment } from './ffprobe.js';
import { tempDir } from './temp-dir.js';

const run = promisify(execFile);
const dir = tempDir('ffprobe-test-');
const ts = join(dir, 'two-seconds.ts');

/** 2 s of 10 fps H.264 in MPEG-TS, a keyframe every second. */
beforeAll(async () => {
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '2'],
    ...['-c:v', 'libx264', '-g', '10', '-f', 'mpegts', ts],
  ]);
});

describe('probeSegment', () => {
  it('describes a self-contained MPEG-TS segment', async () => {
    const probe = await probeSegment(ts);
    expect(probe).toMatchObject({
      format: 'mpegts',
      videoCodec: 'h264',
      firstVideoPacketIsKeyframe: true,
      videoPackets: 20,
    });
    expect(probe.durationS).toBeCloseTo(2, 1);
  });

  it('tells when a segment does not start on a keyframe', async () => {
    // Cut mid-GOP: the second piece starts on a P-frame.
    await run('ffmpeg', [
      ...['-v', 'error', '-i', ts, '-c', 'copy', '-f', 'segment', '-segment_time', '0.5'],
      ...['-break_non_keyframes', '1', '-segment_format', 'mpegts', join(dir, 'cut-%d.ts')],
    ]);
    const probe = await probeSegment(join(dir, 'cut-1.ts'));
    expect(probe.firstVideoPacketIsKeyframe).toBe(false);
    expect(probe.videoPackets).toBeGreaterThan(0);
  });

  it('throws with ffprobe stderr for a file that is not media', async () => {
    const junk = join(dir, 'junk.ts');
    writeFileSync(junk, 'not video at all\n');
    await expect(probeSegment(junk)).rejects.toThrow(/Invalid data found when processing input/);
    await expect(probeSegment(join(dir, 'missing.ts'))).rejects.toThrow(/No such file or directory/);
  });

  it('throws for valid media that is not MPEG-TS', async () => {
    const mp4 = join(dir, 'clip.mp4');
    await run('ffmpeg', ['-v', 'error', '-i', ts, '-c', 'copy', mp4]);
    await expect(probeSegment(mp4)).rejects.toThrow(/not mpegts/);
  });
});
