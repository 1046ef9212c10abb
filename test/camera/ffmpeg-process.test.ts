import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FfmpegRun } from '../../src/camera/ffmpeg-process.js';
import type { SegmentListEntry } from '../../src/camera/segment-list.js';

const FAKE = fileURLToPath(new URL('./fixtures/fake-ffmpeg-probing.mjs', import.meta.url));

async function startFake(probeMs: number): Promise<{ run: FfmpegRun; listed: SegmentListEntry[] }> {
  const listed: SegmentListEntry[] = [];
  const run = await FfmpegRun.start(process.execPath, [FAKE, String(probeMs)], async (e) => {
    listed.push(e);
  });
  // Its first line says its signal handler is in.
  const spawned = run.lastOutputAt;
  while (run.lastOutputAt === spawned) await new Promise((r) => setTimeout(r, 10));
  return { run, listed };
}

describe('FfmpegRun.stop', () => {
  it('lets ffmpeg catch up with what it read while probing before the SIGINT', async () => {
    const { run, listed } = await startFake(1000);
    // A stop that comes while ffmpeg still holds the probe's video, not yet muxed: chosen on
    // purpose, 0.6 s into a 1 s probe (not a wait for some other event).
    await new Promise((r) => setTimeout(r, 600));
    const exit = await run.stop(5000);
    expect(exit).toMatchObject({ exitCode: 0, stopped: true, killed: false });
    // Without the catch-up the SIGINT found nothing muxed (end 0): the probe's video was lost.
    expect(listed.at(-1)!.endS).toBeGreaterThanOrEqual(0.6 - 0.25);
  });

  it('interrupts at once when asked not to wait (a stalled ffmpeg)', async () => {
    const { run, listed } = await startFake(60_000);
    const exit = await run.stop(5000, { catchUp: false });
    expect(exit).toMatchObject({ exitCode: 0, stopped: true, killed: false });
    expect(listed.at(-1)!.endS).toBe(0);
  });

  it('gives up waiting when ffmpeg never reports output, and still stops gracefully', async () => {
    const { run, listed } = await startFake(60_000);
    const exit = await run.stop(1000);
    expect(exit).toMatchObject({ exitCode: 0, stopped: true, killed: false });
    expect(listed).toHaveLength(1);
  });
});
