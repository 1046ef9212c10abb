import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { writeFleetConfig } from '../helpers/fleet.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir } from '../helpers/relay-run.js';

cleanUpAfterAll();

describe('a refused key with many cameras', () => {
  it('stops every camera with one line and exit 3, the spools kept', async () => {
    const camera = await startCamera({ mounts: 3 });
    const ingest = await startTestIngest();
    const spool = newSpoolDir();
    const file = join(spool, 'cameras.yaml');
    const wrongKey = 'not-the-ingest-key-7c2e';
    writeFleetConfig(
      file,
      {
        cloud: ingest.url,
        token: wrongKey,
        'spool-dir': spool,
        'segment-duration': 1,
        codec: 'copy',
        'drain-timeout': '3s',
      },
      camera.urls.map((url, i) => ({ id: `cam-${i + 1}`, source: url })),
    );
    try {
      const run = await runCli(['--config', file], { timeoutMs: 60_000 });
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(3);
      // One line for the process, not one per camera; the key never printed.
      const lines = run.stderr.split('\n').filter((line) => line.startsWith('trio-relay: '));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/API key|401|403/);
      expect(run.stderr).not.toContain(wrongKey);
      // Every camera stopped; nothing was stored by the ingest.
      for (let i = 1; i <= 3; i++) expect(run.stderr).toMatch(new RegExp(`\\[cam-${i}\\] state failed`));
      expect(ingest.accepted()).toHaveLength(0);
    } finally {
      await ingest.close();
    }
  });
});
