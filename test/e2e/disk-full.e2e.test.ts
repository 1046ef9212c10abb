import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCamera, stopAllCameras } from '../helpers/camera.js';
import { cliPath, killAllClis, startCli } from '../helpers/cli.js';
import { acceptedSequences, stopRelay } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import { fastRelayArgs } from '../helpers/relay-run.js';

afterAll(async () => {
  killAllClis();
  await stopAllCameras();
});

/**
 * The spool on a 384 KiB tmpfs in a private mount namespace (unshare; as root, or through a user
 * namespace otherwise): ffmpeg hits ENOSPC for real while the ingest is down.
 */
function unshareArgs(mountpoint: string, inner: string[]): string[] {
  const userns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  const script = `mount -t tmpfs -o size=384k,mode=0700 tmpfs "$0" && exec "$@"`;
  return [...userns, '--mount', 'sh', '-c', script, mountpoint, ...inner];
}

describe('a full disk', () => {
  it('evicts the oldest segments loudly (disk-full), keeps relaying, and delivers the rest', {
    timeout: 180_000,
  }, async () => {
    expect(spawnSync('unshare', unshareArgs('/tmp', ['true'])).status, 'unshare + tmpfs must work here').toBe(
      0,
    );
    const camera = await startCamera();
    const ingest = await startTestIngest();
    const mount = mkdtempSync(join(tmpdir(), 'e2e-tmpfs-'));
    // The size bound is far above the disk: only ENOSPC can force evictions here.
    const args = fastRelayArgs(camera.url, ingest.url, mount, [
      '--camera-id',
      'cam-full',
      '--max-spool-mb',
      '100',
    ]);
    const relay = startCli([...unshareArgs(mount, [process.execPath, cliPath, ...args])], {
      command: 'unshare',
    });
    try {
      await ingest.waitFor((s) => s.accepted >= 2, 30_000);
      await ingest.faults.down();
      await relay.waitForOutput(/"reason":"disk-full"/, 90_000, 'stderr');
      await ingest.faults.up();
      const before = ingest.stats().accepted;
      await ingest.waitFor((s) => s.accepted >= before + 5, 60_000);
      expect(await stopRelay(relay)).toBe(0);
      const evicted = relay
        .events()
        .filter((e) => e.phase === 'evicted')
        .map((e) => e.sequence as number);
      expect(evicted.length).toBeGreaterThan(0);
      // Every closed segment was either delivered or evicted and announced — none vanished.
      const closed = relay
        .events()
        .filter((e) => e.phase === 'closed' || e.phase === 'salvaged')
        .map((e) => e.sequence as number);
      const accepted = acceptedSequences(ingest, 'cam-full');
      // A segment can be both: stored by the ingest as it went down, its answer lost, evicted later.
      expect([...new Set([...accepted, ...evicted])].sort((a, b) => a - b)).toEqual(
        [...new Set(closed)].sort((a, b) => a - b),
      );
      const gaps = ingest.accepted('cam-full').filter((r) => r.gap !== null);
      expect(gaps.length).toBeGreaterThan(0);
      expect(JSON.stringify(gaps)).toContain('disk-full');
    } finally {
      relay.kill('SIGKILL');
      await ingest.close();
    }
  });
});
