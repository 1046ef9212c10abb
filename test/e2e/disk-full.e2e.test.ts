import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOSS_LEDGER_FILE } from '../../src/spool/naming.js';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { cliPath, startCli } from '../helpers/cli.js';
import { acceptedSequences, expectCameraDelivered, stopRelay } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import { readLossLedger } from '../helpers/oracle.js';
import { fastRelayArgs } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

cleanUpAfterAll();

/**
 * The spool on a 6 MiB tmpfs in a private mount namespace (unshare; as root, or through a user
 * namespace otherwise): ffmpeg hits ENOSPC for real while the ingest is down.
 */
function unshareArgs(mountpoint: string, inner: string[]): string[] {
  const userns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  const script = `mount -t tmpfs -o size=6m,mode=0700 tmpfs "$0" && exec "$@"`;
  return [...userns, '--mount', 'sh', '-c', script, mountpoint, ...inner];
}

describe('a full disk', () => {
  it('evicts the oldest segments loudly (disk-full) before ffmpeg meets ENOSPC: one ffmpeg run, every second received or ledgered', {
    timeout: 240_000,
  }, async () => {
    expect(spawnSync('unshare', unshareArgs('/tmp', ['true'])).status, 'unshare + tmpfs must work here').toBe(
      0,
    );
    // Snow does not compress: ~170 KB per 1 s segment, so 6 MiB fill in about half a minute.
    const camera = await startCamera({ pattern: 'snow' });
    const since = Date.now();
    const ingest = await startTestIngest();
    const mount = tempDir('e2e-tmpfs-');
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
      // An outage that answers 503 without storing: no segment is both received and evicted.
      ingest.faults.add({ kind: 'status', status: 503, count: Number.POSITIVE_INFINITY });
      const evictions = () => relay.events().filter((e) => e.phase === 'evicted').length;
      await relay.waitFor(() => evictions() >= 10, 120_000, 'waiting for 10 disk-full evictions');
      ingest.faults.clear();
      const before = ingest.stats().accepted;
      await ingest.waitFor((s) => s.accepted >= before + 5, 60_000);
      // The ledger lives on the relay's private tmpfs: read it through the relay's own root.
      const ledgerDir = tempDir('e2e-ledger-');
      copyFileSync(`/proc/${relay.pid}/root${mount}/${LOSS_LEDGER_FILE}`, join(ledgerDir, LOSS_LEDGER_FILE));
      expect(await stopRelay(relay)).toBe(0);
      const events = relay.events();
      // The disk never filled under ffmpeg: it ran once, and no segment came out empty.
      expect(events.filter((e) => e.type === 'ffmpeg' && e.phase === 'started')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'ffmpeg' && e.phase === 'restarting')).toEqual([]);
      const failures = ['ERR_FFMPEG_EXIT', 'ERR_LEDGER', 'ERR_JOURNAL'];
      expect(events.filter((e) => e.type === 'error' && failures.includes(String(e.code)))).toEqual([]);
      expect(events.filter((e) => e.reason === 'write-failed')).toEqual([]);
      // Every eviction is in the ledger: none written while the disk was full and lost.
      const ledgered = readLossLedger(ledgerDir, 'cam-full');
      const inLedger = (seq: number) => ledgered.some((l) => l.seqFrom <= seq && seq <= l.seqTo);
      const evictedSeqs = events.filter((e) => e.phase === 'evicted').map((e) => e.sequence as number);
      expect(evictedSeqs.filter((seq) => !inLedger(seq))).toEqual([]);
      expect(new Set(ledgered.map((l) => l.reason))).toEqual(new Set(['disk-full']));
      // From outside: every second the camera streamed arrived or was declared, in one ffmpeg run.
      const accounting = await expectCameraDelivered({
        ingest,
        cameraId: 'cam-full',
        camera,
        spool: ledgerDir,
        since,
      });
      expect(accounting.runs[0]).toMatchObject({ sessions: 1, ffmpegRuns: 1 });
      // Every closed segment was either delivered or evicted and announced, never both or neither.
      const closed = events
        .filter((e) => e.phase === 'closed' || e.phase === 'salvaged')
        .map((e) => e.sequence as number);
      const accepted = acceptedSequences(ingest, 'cam-full');
      expect(accepted.filter((seq) => evictedSeqs.includes(seq))).toEqual([]);
      expect([...accepted, ...evictedSeqs].sort((a, b) => a - b)).toEqual(
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
