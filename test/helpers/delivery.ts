import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import type { Camera } from './camera.js';
import type { CliProcess } from './cli.js';
import {
  type Accounting,
  account,
  formatAccounting,
  type RelayRunWindow,
  type RunAccount,
  readIngest,
  readLossLedger,
  settledSessions,
} from './oracle.js';

/**
 * What one ffmpeg stop may leave unaccounted. A graceful stop lets ffmpeg catch up first, and a
 * kill's lost tail is declared (the next run's `relay-killed` hole), so what is left is rounding:
 * the relay's 5 fps frames against the camera's 10 fps ones, and the wall-clock placement of a
 * run's segments. Measured 0–0.1 s with Debian's ffmpeg 5.1; the bundled 4.1 holds about 0.5 s
 * inside itself that a SIGKILL takes before it was placed on the clock (0.3–0.5 s measured).
 */
export const PER_STOP_S = 0.6;
/**
 * A graceful stop of the bundled ffmpeg 4.1 re-encoding: 0.4–0.6 s of what the camera streamed
 * never reaches a segment (7 runs of relay.e2e, 2026-12-03), and the relay places 4.1's output
 * about as late, so it cannot declare that tail yet. A known loss (issue 21), not rounding.
 */
export const BUNDLED_FFMPEG_PER_STOP_S = 0.8;
/** The camera counts 10 fps frames, the relay's timeline 5 fps ones: a frame's worth of rounding. */
export const EXCESS_S = 0.3;
/**
 * A declared hole ends where the relay placed its next run's first segment on the wall clock: by
 * ffmpeg's progress reports, which a starved box delivers late, so the hole may reach this far
 * into video that did arrive (over-declared, never a loss hidden).
 */
export const HOLE_PLACEMENT_S = 0.6;

/** Sequences the ingest accepted for a camera, in the order they arrived (never sorted). */
export function acceptedSequences(ingest: IngestServer, camera: string): number[] {
  return ingest.accepted(camera).map((r) => r.sequence ?? -1);
}

/**
 * Secondary check on the relay's numbering: as received, each sequence is the one after the
 * previous, except across stretches the relay declared lost.
 */
export function expectSequencesInOrder(ingest: IngestServer, camera: string, declared: number[] = []): void {
  const received = acceptedSequences(ingest, camera);
  expect(received.length).toBeGreaterThan(0);
  const skipped = new Set(declared);
  for (let i = 1; i < received.length; i++) {
    let expected = received[i - 1]! + 1;
    while (skipped.has(expected)) expected++;
    expect(received[i], `arrival ${i} of ${received.join(',')}`).toBe(expected);
  }
}

export interface CameraDeliveryCheck {
  /** The in-process ingest, or the out dir of an `ingest-server` process. */
  ingest: Pick<IngestServer, 'outDir'>;
  cameraId: string;
  camera: Camera;
  /** With a many-mount camera: only the sessions of this mount (`/stream-2` …) count. */
  mount?: string;
  spool: string;
  /**
   * False with `--upload-order live-first` after an outage: the newest segment arrives before
   * the backlog, so arrivals step back by design (coverage and duplicates are still checked).
   * @default true
   */
  inOrder?: boolean;
  /** Relay runs to account for; one window from `since` to now when omitted. */
  runs?: RelayRunWindow[];
  /** Wall clock (ms) before the relay started: camera sessions from then on are this test's. */
  since: number;
  /** What one stop may leave unaccounted. @default PER_STOP_S */
  perStopS?: number;
}

/**
 * The zero-loss check, from outside the relay: every second the camera streamed to it was
 * received by the ingest (measured from the stored segments' PTS) or declared lost, within
 * PER_STOP_S per camera session; in order as received; no duplicate beyond what keys explain.
 */
export async function expectCameraDelivered(check: CameraDeliveryCheck): Promise<Accounting> {
  const { ingest, cameraId, camera, spool, since, mount } = check;
  const runs = check.runs ?? [{ startedAt: since, endedAt: Date.now(), label: 'run' }];
  const sessions = await settledSessions(camera.frameLog, since);
  const accounting = account({
    camera: mount === undefined ? sessions : sessions.filter((s) => s.path === mount),
    ingest: await readIngest(ingest.outDir, cameraId),
    runs,
    ledger: readLossLedger(spool, cameraId),
  });
  const report = `${cameraId}:\n${formatAccounting(accounting)}`;
  expect(accounting.unattributed, report).toEqual([]);
  expect(accounting.empty, report).toEqual([]);
  const perStopS = check.perStopS ?? PER_STOP_S;
  for (const run of accounting.runs) expectRunAccounted(run, report, perStopS, check.inOrder ?? true);
  return accounting;
}

/** One run: in order, no duplicate, no hole left undeclared, nothing lost beyond the allowance. */
export function expectRunAccounted(
  run: RunAccount,
  report: string,
  perStopS = PER_STOP_S,
  inOrder = true,
): void {
  logAccount(run, perStopS);
  expect(run.segments, report).toBeGreaterThan(0);
  if (inOrder) expect(run.outOfOrder, report).toBe(0);
  expect(run.ptsDuplicates, report).toBe(0);
  expect(run.ffmpegRuns, report).toBeLessThanOrEqual(run.sessions);
  expect(run.holesS, report).toBeLessThanOrEqual(run.declaredS + 0.001);
  const placement = run.uncapturedS > 0 ? HOLE_PLACEMENT_S : 0;
  expect(run.undeclaredS, report).toBeGreaterThanOrEqual(-EXCESS_S * run.sessions - placement);
  expect(run.undeclaredS, report).toBeLessThanOrEqual(perStopS * run.sessions);
}

/**
 * With TRIO_ACCOUNT_LOG=<file>, every judged run is appended there as a JSON line: how the
 * allowances above were measured, across a whole `npm test`.
 */
function logAccount(run: RunAccount, perStopS: number): void {
  const file = process.env.TRIO_ACCOUNT_LOG;
  if (!file) return;
  const { label, sessions, streamedS, declaredS, uncapturedS, undeclaredS } = run;
  const test = expect.getState().currentTestName;
  const line = { test, label, sessions, streamedS, declaredS, uncapturedS, undeclaredS, perStopS };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/**
 * For sources without the camera's log (files, HLS, a camera two relays share): the ingest
 * holds one PTS timeline, received in order, without holes or duplicates. Returns its seconds.
 */
export async function expectOneContiguousTimeline(
  ingest: Pick<IngestServer, 'outDir'>,
  cameraId: string,
): Promise<number> {
  const accounting = account({
    camera: [],
    ingest: await readIngest(ingest.outDir, cameraId),
    runs: [{ startedAt: 0, endedAt: Number.MAX_SAFE_INTEGER, label: 'run' }],
  });
  const [run] = accounting.runs;
  const report = `${cameraId}:\n${formatAccounting(accounting)}`;
  expect(accounting.empty, report).toEqual([]);
  expect(run, report).toMatchObject({ ffmpegRuns: 1, outOfOrder: 0, ptsDuplicates: 0, holesS: 0 });
  return run!.receivedS;
}

/** Stop the relay gracefully and wait for its exit code. */
export async function stopRelay(relay: CliProcess): Promise<number | null> {
  relay.kill('SIGTERM');
  return (await relay.exited).code;
}
