import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis } from '../helpers/cli.js';
import { expectOneContiguousTimeline, expectSequencesInOrder, stopRelay } from '../helpers/delivery.js';
import { probeSegment } from '../helpers/ffprobe.js';
import { startTestIngest } from '../helpers/ingest.js';
import { listenOnFreePort } from '../helpers/ports.js';
import { newSpoolDir, startRelay, waitForClosed } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

describe('an HLS source over HTTP', () => {
  it('is relayed like a camera', async () => {
    const dir = tempDir('hls-');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '8'],
      ...['-c:v', 'libx264', '-g', '10', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0'],
      join(dir, 'live.m3u8'),
    ]);
    const web = createServer((req, res) => {
      const name = (req.url ?? '/').slice(1);
      if (!/^live\d*\.(m3u8|ts)$/.test(name)) return void res.writeHead(404).end();
      res.writeHead(200);
      createReadStream(join(dir, name)).pipe(res);
    });
    const url = `http://127.0.0.1:${await listenOnFreePort(web)}/live.m3u8`;
    const ingest = await startTestIngest();
    try {
      const relay = startRelay(url, ingest.url, newSpoolDir(), ['--camera-id', 'cam-hls']);
      await waitForClosed(relay, 3);
      expect(await stopRelay(relay)).toBe(0);
      expect(await expectOneContiguousTimeline(ingest, 'cam-hls')).toBeGreaterThanOrEqual(3);
      expectSequencesInOrder(ingest, 'cam-hls');
      const first = ingest.accepted('cam-hls')[0]!;
      expect(
        (await probeSegment(join(ingest.outDir, 'cam-hls', first.file!))).firstVideoPacketIsKeyframe,
      ).toBe(true);
    } finally {
      web.closeAllConnections();
      web.close();
      await ingest.close();
    }
  });
});
