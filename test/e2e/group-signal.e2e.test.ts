import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { probeSegment } from '../helpers/ffprobe.js';
import { startTestIngest } from '../helpers/ingest.js';
import { childPids } from '../helpers/proc.js';
import { newSpoolDir, spoolDirs, startRelay } from '../helpers/relay-run.js';

cleanUpAfterAll();

/**
 * systemd's default KillMode=control-group, a script's `kill 0` or `kill -TERM -<pgid>` signal
 * ffmpeg straight away, together with the relay: ffmpeg then quits on its own, the relay does
 * not get to close its segment. What ffmpeg had written of it must still reach the ingest.
 */
describe('SIGTERM to the relay and its ffmpeg at once', () => {
  it('the segment being written is salvaged and delivered; exit 0', async () => {
    const camera = await startCamera({ fps: 10 });
    const ingest = await startTestIngest();
    const spool = newSpoolDir();
    const relay = startRelay(camera.url, ingest.url, spool, [
      ...['--camera-id', 'cam-group', '--segment-duration', '2', '--drain-timeout', '4s'],
    ]);
    try {
      await ingest.waitFor((s) => s.accepted >= 2, 30_000);
      const [ffmpeg] = childPids(relay.pid);
      expect(ffmpeg).toBeGreaterThan(0);
      // Well into the next segment (a placement in time, not a synchronisation): ~1.2 s of video.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      process.kill(ffmpeg!, 'SIGTERM');
      relay.kill('SIGTERM');
      const { code } = await relay.exited;
      expect(code, relay.stderr()).toBe(0);

      // Judged from what the ingest stored: the last file is the partial one, and it has video.
      const stored = ingest.accepted('cam-group');
      expect(stored.length).toBeGreaterThanOrEqual(3);
      const probes = await Promise.all(
        stored.map((row) => probeSegment(join(ingest.outDir, 'cam-group', row.file!))),
      );
      const last = probes.at(-1)!;
      expect(last.videoCodec).toBe('h264');
      expect(last.firstVideoPacketIsKeyframe).toBe(true);
      expect(last.durationS).toBeGreaterThan(0.5);
      // Nothing is left behind or declared lost: the spool dir was emptied and removed.
      expect(spoolDirs(spool)).toEqual([]);
    } finally {
      relay.kill('SIGKILL');
      await ingest.close();
    }
  });
});
