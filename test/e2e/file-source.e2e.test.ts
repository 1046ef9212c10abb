import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis } from '../helpers/cli.js';
import { expectOneContiguousTimeline, expectSequencesInOrder } from '../helpers/delivery.js';
import { probeDuration } from '../helpers/ffprobe.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, spoolDirs, startRelay } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

describe('a file source', () => {
  it('is relayed at native speed and its end is a normal finish: everything delivered, exit 0', async () => {
    const clip = join(tempDir('clip-'), 'clip.mp4');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '4'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip],
    ]);
    const ingest = await startTestIngest();
    try {
      const spool = newSpoolDir();
      // The ingest is flaky at first: the finish still waits for every segment.
      ingest.faults.add({ kind: 'status', status: 503, count: 2 });
      const relay = startRelay(clip, ingest.url, spool, ['--camera-id', 'cam-file']);
      const exit = await relay.exited;
      expect(exit.code, relay.stderr()).toBe(0);
      expect(relay.stderr()).toMatch(/"state":"draining","detail":"source ended"/);
      // The whole clip, measured from the stored segments' own timestamps, in one unbroken run.
      const clipS = await probeDuration(clip);
      const receivedS = await expectOneContiguousTimeline(ingest, 'cam-file');
      expect(receivedS).toBeGreaterThan(clipS - 0.25);
      // ffmpeg's 10 → 5 fps conversion repeats the last frame or two at the end of the input.
      expect(receivedS).toBeLessThanOrEqual(clipS + 0.5);
      expectSequencesInOrder(ingest, 'cam-file');
      expect(spoolDirs(spool)).toEqual([]);
    } finally {
      await ingest.close();
    }
  });
});
