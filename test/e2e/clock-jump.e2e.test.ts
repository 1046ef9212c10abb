import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll, startIngestForTest } from '../helpers/cleanup.js';
import { startCli } from '../helpers/cli.js';
import { expectCameraDelivered, expectSequencesInOrder, stopRelay } from '../helpers/delivery.js';
import { movableClock } from '../helpers/faketime.js';
import { closedSequences, fastRelayArgs, newSpoolDir, waitForClosed } from '../helpers/relay-run.js';

cleanUpAfterAll();

const HOUR_S = 3600;

describe('the wall clock jumps an hour ahead under a running relay', () => {
  it('capture goes on (one ffmpeg run, nothing lost or declared), and the ingest is told of the jump', async () => {
    const camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const offset = join(mkdtempSync(join(tmpdir(), 'clock-')), 'offset');
    const since = Date.now();
    // The relay alone sees the jump (ffmpeg gets no LD_PRELOAD: the relay passes it a short env).
    // 4 s segments: the stall watchdog looks every second and restarts ffmpeg after 12 s without one.
    const args = fastRelayArgs(camera.url, server.url, spool, ['--camera-id', 'cam-clock']);
    const relay = startCli([...args, '--segment-duration', '4'], { env: movableClock(offset) });
    await server.waitFor(() => server.accepted('cam-clock').length >= 2, 30_000);
    // The jump 1.5 s into a segment, chosen on purpose: after the watchdog's look that saw the
    // last segment close and before the next one closes, so its next looks measure across the
    // jump. A watchdog on the wall clock would see "no segment for an hour" and restart ffmpeg.
    await waitForClosed(relay, closedSequences(relay).length + 1);
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(offset, `+${HOUR_S}\n`);
    // A jump shows on the first segment that starts after it; then a few more on the new clock.
    await server.waitFor(() => server.accepted('cam-clock').some((r) => r.clock_jump !== null), 30_000);
    const jumped = server.accepted('cam-clock').findIndex((r) => r.clock_jump !== null);
    await server.waitFor(() => server.accepted('cam-clock').length >= jumped + 3, 30_000);
    expect(await stopRelay(relay)).toBe(0);

    const rows = server.accepted('cam-clock');
    expect(rows.filter((r) => r.clock_jump !== null).map((r) => Math.round(r.clock_jump! / 60))).toEqual([
      HOUR_S / 60,
    ]);
    // Judged by content: every second the camera streamed is at the ingest, in one ffmpeg run,
    // and nothing was declared missing (the hour the clock skipped is not a hole in the video).
    const accounting = await expectCameraDelivered({
      ingest: server,
      cameraId: 'cam-clock',
      camera,
      spool,
      since,
      runs: [{ startedAt: since, endedAt: Number.MAX_SAFE_INTEGER, label: 'run' }],
    });
    expect(accounting.runs[0]!.ffmpegRuns).toBe(1);
    expect(accounting.runs[0]!.declaredS).toBe(0);
    expectSequencesInOrder(server, 'cam-clock');
  });
});
