import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis } from '../helpers/cli.js';
import { expectEveryClosedSegmentDelivered } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, spoolDirs, startRelay } from '../helpers/relay-run.js';

afterAll(() => killAllClis());

describe('a file source', () => {
  it('is relayed at native speed and its end is a normal finish: everything delivered, exit 0', async () => {
    const clip = join(mkdtempSync(join(tmpdir(), 'clip-')), 'clip.mp4');
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
      expectEveryClosedSegmentDelivered(relay, ingest, 'cam-file');
      const seconds = ingest.accepted('cam-file').reduce((sum, r) => sum + (r.duration ?? 0), 0);
      expect(seconds).toBeGreaterThan(3.5);
      expect(spoolDirs(spool)).toEqual([]);
    } finally {
      await ingest.close();
    }
  });
});
