import { readlinkSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { childPids } from '../helpers/proc.js';

const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

/** The executables the demo process runs as children (Linux /proc), resolved like `bundled`. */
function childExecutables(pid: number): string[] {
  return childPids(pid).flatMap((child) => {
    try {
      return [realpathSync(readlinkSync(`/proc/${child}/exe`))];
    } catch {
      return []; // gone meanwhile
    }
  });
}

describe('trio-relay demo', () => {
  it('relays the test pattern to the embedded ingest with the bundled ffmpeg 4.1 only', async () => {
    // No ffmpeg on PATH: what a fresh machine has after `npm ci`.
    const demo = startCli(['demo', '--duration', '5'], {
      env: { PATH: '/nonexistent', FFMPEG_PATH: undefined },
    });
    const timer = setTimeout(() => demo.kill('SIGKILL'), 40_000);
    // While it relays, the ffmpeg capturing is the package's binary, not one found elsewhere.
    await demo.waitForOutput(/RELAYING \| up/, 30_000, 'stderr');
    const executables = childExecutables(demo.pid);
    const { code } = await demo.exited;
    clearTimeout(timer);
    const stderr = demo.stderr();
    expect(code, stderr).toBe(0);
    expect(executables).toContain(realpathSync(bundled));
    // First thing: where to watch it.
    expect(stderr.split('\n')[0]).toMatch(/^demo: watch it at http:\/\/127\.0\.0\.1:\d+\/#key=demo-token$/);
    expect(stderr).toMatch(/demo: local ingest at http:\/\/127\.0\.0\.1:\d+/);
    const summary =
      /the relay sent (\d+) segment\(s\), ([\d.]+) KiB; the ingest received (\d+) segment\(s\), ([\d.]+) KiB/.exec(
        stderr,
      );
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(0);
    expect(summary![1]).toBe(summary![3]);
    expect(summary![2]).toBe(summary![4]);
    expect(stderr).toMatch(/play one: +ffplay \/.*\.ts/);
  });
});
