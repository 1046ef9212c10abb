import { describe, expect, it } from 'vitest';
import {
  account,
  type CameraSession,
  type DeclaredLoss,
  type IngestRecord,
  type ReceivedSegment,
} from './oracle.js';

const T0 = Date.UTC(2026, 0, 1);
const run = { startedAt: T0, endedAt: T0 + 10_000, label: 'SIGKILL' };
const session: CameraSession = {
  client: '1.1',
  playAt: T0 + 100,
  closeAt: T0 + 9000,
  frames: 80,
  streamedS: 8,
  firstFrameAt: T0 + 100,
  lastFrameAt: T0 + 8900,
  spans: [[T0 + 100, T0 + 9000]],
};

/** 5 fps segments of one relay run, given as [startS, endS] PTS ranges in arrival order. */
function ingest(
  ranges: Array<[number, number]>,
  announced: DeclaredLoss[] = [],
  content = (_i: number, [a]: [number, number]) => `${a}`,
): IngestRecord {
  const segments = ranges.map(
    ([a, b], i): ReceivedSegment => ({
      arrival: i,
      file: `${i}.ts`,
      idempotencyKey: `cam:run1:${i}`,
      run: 'run1',
      sequence: i,
      sha256: content(i, [a, b]),
      pts: { startS: a, endS: b, frameS: 0.2, frames: Math.round((b - a) / 0.2) },
      headerStartMs: T0 + 500 + (a - 1.4) * 1000,
    }),
  );
  return { segments, keyDuplicates: 0, announced };
}

const whole: Array<[number, number]> = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [1.4 + i, 2.4 + i]);

describe('the oracle', () => {
  it('a run received whole: nothing undeclared', () => {
    const [r] = account({ camera: [session], ingest: ingest(whole), runs: [run] }).runs;
    expect(r).toMatchObject({ streamedS: 8, receivedS: 8, undeclaredS: 0, holesS: 0, ffmpegRuns: 1 });
  });

  it('a missing segment is a hole and undeclared loss, unless declared (once, however often said)', () => {
    const holed = whole.filter((_, i) => i !== 3);
    expect(account({ camera: [session], ingest: ingest(holed), runs: [run] }).runs[0]).toMatchObject({
      receivedS: 7,
      holesS: 1,
      undeclaredS: 1,
    });
    const gap = { seqFrom: 3, seqTo: 3, startMs: T0 + 3500, endMs: T0 + 4500, reason: 'evicted' };
    const declared = account({ camera: [session], ingest: ingest(holed, [gap]), runs: [run], ledger: [gap] });
    expect(declared.runs[0]).toMatchObject({ declaredS: 1, undeclaredS: 0 });
  });

  it('an uncaptured hole counts only where the camera was streaming to the run', () => {
    // The last second never reached the ingest (a kill); the hole runs on past the session's end.
    const cut = whole.slice(0, 7);
    const hole = { seqFrom: 7, seqTo: 6, startMs: T0 + 7500, endMs: T0 + 20_000, reason: 'relay-killed' };
    const accounting = account({ camera: [session], ingest: ingest(cut, [hole]), runs: [run] });
    expect(accounting.runs[0]).toMatchObject({ receivedS: 7, declaredS: 1.5, uncapturedS: 1.5 });
    expect(accounting.uncaptured).toEqual([hole]);
    // A stalled camera (no frames for a while) is no streaming to declare against.
    const stalled = { ...session, spans: [[T0 + 100, T0 + 4000]] as Array<[number, number]> };
    const during = account({ camera: [stalled], ingest: ingest(cut, [hole]), runs: [run] });
    expect(during.runs[0]).toMatchObject({ uncapturedS: 0 });
  });

  it('judges order as received, counts the same range twice, and tells a restarted timeline', () => {
    const swapped = [whole[0]!, whole[2]!, whole[1]!, ...whole.slice(3)];
    expect(account({ camera: [session], ingest: ingest(swapped), runs: [run] }).runs[0]).toMatchObject({
      outOfOrder: 1,
      undeclaredS: 0,
    });
    const twice = [...whole.slice(0, 3), whole[2]!, ...whole.slice(3)];
    expect(account({ camera: [session], ingest: ingest(twice), runs: [run] }).runs[0]).toMatchObject({
      ptsDuplicates: 1,
      receivedS: 8,
    });
    // A restarted ffmpeg: the same PTS ranges again, other pictures.
    const restarted = [...whole.slice(0, 4), ...whole.slice(0, 4)];
    const fresh = ingest(restarted, [], (i) => `picture ${i}`);
    expect(account({ camera: [session], ingest: fresh, runs: [run] }).runs[0]).toMatchObject({
      ffmpegRuns: 2,
      receivedS: 8,
      outOfOrder: 0,
    });
  });

  it('segments whose start fits no run window are reported, not silently counted', () => {
    const late = { ...run, startedAt: T0 + 60_000, endedAt: T0 + 70_000 };
    const accounting = account({ camera: [session], ingest: ingest(whole), runs: [late] });
    expect(accounting.unattributed).toHaveLength(8);
    expect(accounting.runs[0]!.receivedS).toBe(0);
  });
});
