import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

describe('trio-relay demo', () => {
  it('relays the test pattern to the embedded ingest with the bundled ffmpeg 4.1 only', async () => {
    // No ffmpeg on PATH: what a fresh machine has after `npm ci`.
    const result = await runCli(['demo', '--duration', '5'], {
      timeoutMs: 40_000,
      env: { PATH: '/nonexistent', FFMPEG_PATH: undefined },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/demo: local ingest at http:\/\/127\.0\.0\.1:\d+/);
    const summary =
      /the relay sent (\d+) segment\(s\), ([\d.]+) KiB; the ingest received (\d+) segment\(s\), ([\d.]+) KiB/.exec(
        result.stderr,
      );
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(0);
    expect(summary![1]).toBe(summary![3]);
    expect(summary![2]).toBe(summary![4]);
    expect(result.stderr).toMatch(/RELAYING \| up/);
    expect(result.stderr).toMatch(/play one: +ffplay \/.*\.ts/);
    expect(bundled).toMatch(/ffmpeg$/);
  });
});
