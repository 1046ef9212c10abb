import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ffmpegProber } from '../../src/camera/probe-segment.js';

/** The last segment of a graceful stop, 0.4 s in: ten TS packets, two frames (a real one). */
const twoFrames = fileURLToPath(new URL('./fixtures/two-frames.m2t', import.meta.url));
const bundled = (await import('@ffmpeg-installer/ffmpeg')).default.path;

describe('ffmpegProber', () => {
  for (const [name, ffmpeg] of [
    ["Debian's ffmpeg 5.1", 'ffmpeg'],
    ['the bundled ffmpeg 4.1', bundled],
  ]) {
    it(`reads a segment of a few packets as MPEG-TS, not as "no video" (${name})`, async () => {
      // Left to guess, ffmpeg takes this file for MPEG-PS and cannot open it.
      const probe = await ffmpegProber(ffmpeg!)(twoFrames);
      expect(probe.packets).toBe(2);
      expect(probe.durationS).toBeCloseTo(0.4, 2);
    });
  }
});
