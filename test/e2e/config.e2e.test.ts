import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, startCli } from '../helpers/cli.js';
import { expectOneContiguousTimeline, expectSequencesInOrder, stopRelay } from '../helpers/delivery.js';
import { probeSegment } from '../helpers/ffprobe.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, TOKEN } from '../helpers/relay-run.js';

afterAll(() => killAllClis());

describe('settings from TRIO_* variables and a config file only', () => {
  it('relays with an empty command line: nothing of the settings in ps, segments delivered', async () => {
    const ingest = await startTestIngest();
    try {
      const spool = newSpoolDir();
      const file = join(spool, 'relay.yaml');
      // What the file says, the environment overrides (fps 5 → 4): flags > env > file.
      writeFileSync(
        file,
        [
          '# trio-relay settings: the flag names as keys',
          `cloud: ${ingest.url}`,
          'camera-id: cam-config',
          'segment-duration: 1',
          'fps: 5',
          'resolution: 320x240',
          'upload-timeout: 2s',
          'retry-base: 200ms',
          'retry-max: 1',
        ].join('\n'),
      );
      const relay = startCli([], {
        env: {
          TRIO_CONFIG: file,
          TRIO_SOURCE: 'testsrc',
          TRIO_TOKEN: TOKEN,
          TRIO_SPOOL_DIR: spool,
          TRIO_FPS: '4',
          TRIO_JSON: 'true',
        },
      });
      await relay.waitFor(
        () => ingest.accepted('cam-config').length >= 3,
        30_000,
        'three segments at the ingest',
      );
      const argv = readFileSync(`/proc/${relay.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      // The shim names the process: no flag, no path, nothing of the settings.
      expect(argv).toEqual(['trio-relay']);
      expect(argv.join(' ')).not.toContain(TOKEN);
      expect(await stopRelay(relay)).toBe(0);
      // testsrc has no frame log: one hole-free timeline, received in order.
      await expectOneContiguousTimeline(ingest, 'cam-config');
      expectSequencesInOrder(ingest, 'cam-config');
      // fps from the environment (4), not the file (5), in what the ingest stored.
      const second = ingest.accepted('cam-config')[1]!;
      const probe = await probeSegment(join(ingest.outDir, 'cam-config', second.file!));
      expect(probe.videoPackets / probe.durationS).toBeCloseTo(4, 0);
      expect(second.duration).toBeLessThanOrEqual(2.5);
      expect(relay.stderr()).not.toContain(TOKEN);
    } finally {
      await ingest.close();
    }
  });
});
