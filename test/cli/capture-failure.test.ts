import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { newSpoolDir } from '../helpers/relay-run.js';

afterAll(() => killAllClis());

describe('ffmpeg keeps failing', () => {
  it('exits 4 after --max-restarts consecutive failures, with the last ffmpeg error', async () => {
    const port = await freePort(); // nothing listens there: the camera is away
    const result = await runCli(
      [
        ...['--source', `rtsp://admin:s3cret@127.0.0.1:${port}/stream`, '--token', 'tok-1234'],
        ...['--cloud', 'http://127.0.0.1:9', '--max-restarts', '2', '--spool-dir', newSpoolDir()],
      ],
      { timeoutMs: 30_000 },
    );
    expect(result.code).toBe(4);
    const last = result.stderr.trim().split('\n').at(-1);
    expect(last).toMatch(
      /^trio-relay: ffmpeg failed 3 times in a row, giving up \(--max-restarts\): .*Connection refused/,
    );
    expect(result.stderr).not.toContain('s3cret');
  });
});
