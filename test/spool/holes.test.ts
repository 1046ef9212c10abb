import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCameraState } from '../../src/spool/camera-state.js';
import { segmentName } from '../../src/spool/naming.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';
import { readLossLedgerLines } from '../helpers/loss-ledger.js';
import { openSpool } from '../helpers/spools.js';

/** One camera's spool with its events, closing 1 s segments at the given wall-clock starts. */
async function run(root: string) {
  const bus = new EventBus();
  const events: StampedEvent[] = [];
  bus.on((e) => events.push(e));
  const spool = await openSpool({ root, cameraId: 'cam', maxBytes: 1e9, emit: bus.forCamera('cam') });
  const close = async (startMs: number) => {
    const name = segmentName(spool.nextSequence);
    writeFileSync(join(spool.dir, name), Buffer.alloc(500, 1));
    return spool.addClosed({ name, start: new Date(startMs), durationS: 1 });
  };
  return { spool, events, close };
}

const T0 = Date.parse('2026-12-03T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('holes in the timeline', () => {
  it('a run after a kill declares relay-killed from the last capture to its first segment', async () => {
    const root = mkdtempSync(join(tmpdir(), 'holes-'));
    const killed = await run(root);
    await killed.close(T0);
    await killed.close(T0 + 1000);
    // No close: the state file still says the run is running, as after a SIGKILL.
    expect((await readCameraState(root, 'cam')).lastRun?.ended).toBe('running');

    const next = await run(root);
    next.spool.adoptCapturedUntil(iso(T0 + 2000)); // what recovery reads in the orphan's journal
    const record = await next.close(T0 + 5000);
    const hole = {
      seqFrom: record!.sequence,
      seqTo: record!.sequence - 1,
      start: iso(T0 + 2000),
      end: iso(T0 + 5000),
    };
    expect(next.spool.gaps()).toEqual([{ ...hole, reason: 'relay-killed', bytes: 0 }]);
    expect(readLossLedgerLines(root)).toMatchObject([{ camera: 'cam', ...hole, reason: 'relay-killed' }]);
    expect(next.events).toContainEqual(
      expect.objectContaining({ type: 'segment', phase: 'uncaptured', reason: 'relay-killed', durationS: 3 }),
    );
  });

  it('a run after a stop declares relay-stopped; after a failure, relay-failed', async () => {
    for (const [ending, reason] of [
      ['stopped', 'relay-stopped'],
      ['failed', 'relay-failed'],
    ] as const) {
      const root = mkdtempSync(join(tmpdir(), 'holes-'));
      const first = await run(root);
      const last = await first.close(T0);
      await first.spool.delivered(last!.sequence, []);
      await first.spool.close(ending);
      const next = await run(root);
      await next.close(T0 + 10_000);
      expect(next.spool.gaps()).toMatchObject([{ start: iso(T0 + 1000), end: iso(T0 + 10_000), reason }]);
    }
  });

  it('a stop declares the tail it cut off; with nothing left to send, the next run announces it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'holes-'));
    const first = await run(root);
    const last = await first.close(T0);
    await first.spool.delivered(last!.sequence, []);
    // ffmpeg exited 0.3 s after the end of its last segment: frames it never read.
    await first.spool.declareStop(new Date(T0 + 1300));
    const tail = { start: iso(T0 + 1000), end: iso(T0 + 1300), reason: 'relay-stopped' };
    expect(readLossLedgerLines(root)).toMatchObject([{ camera: 'cam', ...tail }]);
    expect(first.events).toContainEqual(
      expect.objectContaining({
        type: 'segment',
        phase: 'uncaptured',
        reason: 'relay-stopped',
        durationS: 0.3,
      }),
    );
    expect(await first.spool.close('stopped')).toEqual({ removed: true, pending: 0 });

    const next = await run(root);
    await next.close(T0 + 10_000);
    // The tail and the time the relay was down are one hole to the cloud; the ledger has both.
    expect(next.spool.gaps()).toMatchObject([
      { start: iso(T0 + 1000), end: iso(T0 + 10_000), reason: 'relay-stopped' },
    ]);
    expect(readLossLedgerLines(root)).toMatchObject([tail, { start: iso(T0 + 1300), end: iso(T0 + 10_000) }]);
  });

  it("a stop's tail starts where ffmpeg stopped reading when its last segment was placed past that", async () => {
    const root = mkdtempSync(join(tmpdir(), 'holes-'));
    const late = await run(root);
    await late.close(T0);
    // Placed to end at T0 + 1000 by ffmpeg's progress, which trails capture; the SIGINT was at
    // T0 + 850: nothing the camera sent after it was read.
    await late.spool.declareStop(new Date(T0 + 1300), new Date(T0 + 850));
    expect(late.spool.gaps()).toMatchObject([
      { start: iso(T0 + 850), end: iso(T0 + 1300), reason: 'relay-stopped' },
    ]);

    // Read past the last segment's end (the catch-up): the tail starts at that end, as before.
    const early = await run(mkdtempSync(join(tmpdir(), 'holes-')));
    await early.close(T0);
    await early.spool.declareStop(new Date(T0 + 1300), new Date(T0 + 1200));
    expect(early.spool.gaps()).toMatchObject([{ start: iso(T0 + 1000), end: iso(T0 + 1300) }]);
  });

  it('a stop while the camera is away declares the rest of that hole with its reason; rounding is nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'holes-'));
    const away = await run(root);
    await away.close(T0);
    away.spool.expectHole('camera-unreachable');
    await away.spool.declareStop(new Date(T0 + 8000));
    expect(away.spool.gaps()).toMatchObject([
      { start: iso(T0 + 1000), end: iso(T0 + 8000), reason: 'camera-unreachable' },
    ]);

    const quick = await run(mkdtempSync(join(tmpdir(), 'holes-')));
    await quick.close(T0);
    await quick.spool.declareStop(new Date(T0 + 1050));
    expect(quick.spool.gaps()).toEqual([]);
  });

  it('within a run, the hole an ffmpeg restart left is declared before the next segment, once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'holes-'));
    const { spool, close } = await run(root);
    await close(T0);
    spool.expectHole('camera-unreachable');
    spool.expectHole('ffmpeg-exited'); // the first reason is where the hole began
    await close(T0 + 4000);
    await close(T0 + 5000);
    expect(spool.gaps()).toMatchObject([
      { start: iso(T0 + 1000), end: iso(T0 + 4000), reason: 'camera-unreachable', bytes: 0 },
    ]);
  });

  it('the first run of a camera, and a step within the clock rounding, declare nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'holes-'));
    const { spool, close } = await run(root);
    await close(T0);
    spool.expectHole('ffmpeg-exited');
    await close(T0 + 1050);
    expect(spool.gaps()).toEqual([]);
  });
});
