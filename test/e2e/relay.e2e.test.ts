import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { startCli } from '../helpers/cli.js';
import { expectCameraDelivered } from '../helpers/delivery.js';
import { probeSegment } from '../helpers/ffprobe.js';
import { startTestIngest } from '../helpers/ingest.js';
import { freePort } from '../helpers/ports.js';
import {
  closedSequences,
  newSpoolDir,
  spoolDirs,
  startRelay,
  TOKEN,
  waitForClosed,
} from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

cleanUpAfterAll();

interface LedgerRow {
  event: string;
  status: string;
  sequence: number | null;
  file: string;
  idempotency_key: string;
  start: string | null;
  duration: number | null;
}

function ledger(out: string, camera: string): LedgerRow[] {
  const path = join(out, camera, 'ledger.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LedgerRow);
}

describe('relay end to end: RTSP camera → built CLI → trio-relay ingest-server', () => {
  let camera: Camera;

  it('delivers every closed segment exactly once as valid MPEG-TS starting on a keyframe, and cleans up on SIGTERM', async () => {
    camera = await startCamera();
    const out = tempDir('e2e-ingest-');
    const port = await freePort();
    const ingest = startCli(['ingest-server', '--port', String(port), '--out', out, '--token', TOKEN]);
    await ingest.waitForOutput(/listening on/, 15_000, 'stdout');

    const spool = newSpoolDir();
    const since = Date.now();
    const relay = startRelay(camera.url, `http://127.0.0.1:${port}`, spool, ['--camera-id', 'cam-e2e']);
    await waitForClosed(relay, 5);
    relay.kill('SIGTERM');
    const exit = await relay.exited;
    expect(exit, relay.stderr()).toEqual({ code: 0, signal: null });

    const closed = closedSequences(relay);
    expect(closed.length).toBeGreaterThanOrEqual(5);
    const accepted = ledger(out, 'cam-e2e').filter((r) => r.event === 'segment' && r.status === 'accepted');
    // As received, in the order ffmpeg closed them; and every second the camera streamed is there.
    expect(accepted.map((r) => r.sequence)).toEqual(closed);
    await expectCameraDelivered({ ingest: { outDir: out }, cameraId: 'cam-e2e', camera, spool, since });
    expect(new Set(accepted.map((r) => r.idempotency_key)).size).toBe(accepted.length);
    for (const row of accepted) {
      expect(row.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(row.duration).toBeGreaterThan(0);
      const probe = await probeSegment(join(out, 'cam-e2e', row.file));
      expect(probe.format).toContain('mpegts');
      expect(probe.videoCodec).toBe('h264');
      expect(probe.firstVideoPacketIsKeyframe).toBe(true);
    }
    expect(ledger(out, 'cam-e2e').some((r) => r.event === 'register')).toBe(true);
    expect(ledger(out, 'cam-e2e').some((r) => r.event === 'session_end')).toBe(true);
    expect(spoolDirs(spool)).toEqual([]);
    expect(relay.stderr()).not.toContain(TOKEN);
    ingest.kill('SIGTERM');
    await ingest.exited;
  });

  it('works the same with the bundled ffmpeg 4.1 (its RTSP timeout flag is -stimeout)', async () => {
    const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    camera ??= await startCamera();
    const ingest = await startTestIngest();
    try {
      const spool = newSpoolDir();
      const since = Date.now();
      const relay = startRelay(camera.url, ingest.url, spool, [
        '--camera-id',
        'cam-41',
        '--ffmpeg',
        bundled,
        '-v',
      ]);
      await waitForClosed(relay, 3);
      relay.kill('SIGTERM');
      expect((await relay.exited).code, relay.stderr()).toBe(0);
      expect(relay.stderr()).toMatch(/ffmpeg N-\d+.*\(flag\)/);
      const accepted = ingest.accepted('cam-41');
      expect(accepted.map((r) => r.sequence)).toEqual(closedSequences(relay));
      await expectCameraDelivered({ ingest, cameraId: 'cam-41', camera, spool, since });
      const probe = await probeSegment(join(ingest.outDir, 'cam-41', accepted[0]!.file!));
      expect(probe.firstVideoPacketIsKeyframe).toBe(true);
    } finally {
      await ingest.close();
    }
  });

  it('--codec copy passes the camera stream through, each segment starting on a keyframe', async () => {
    camera ??= await startCamera();
    const ingest = await startTestIngest();
    try {
      const relay = startRelay(camera.url, ingest.url, newSpoolDir(), [
        '--camera-id',
        'cam-copy',
        '--codec',
        'copy',
      ]);
      await waitForClosed(relay, 3);
      relay.kill('SIGTERM');
      expect((await relay.exited).code, relay.stderr()).toBe(0);
      const accepted = ingest.accepted('cam-copy');
      expect(accepted.map((r) => r.sequence)).toEqual(closedSequences(relay));
      for (const row of accepted.slice(0, -1)) {
        const probe = await probeSegment(join(ingest.outDir, 'cam-copy', row.file!));
        expect(probe.videoCodec).toBe('h264');
        expect(probe.firstVideoPacketIsKeyframe).toBe(true);
      }
    } finally {
      await ingest.close();
    }
  });
});
