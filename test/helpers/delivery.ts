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
 * Holes shorter than this are the wall clock's rounding: the relay does not declare them
 * (`MIN_HOLE_S` in src/spool/capture-timeline.ts).
 */
export const UNDECLARED_STEP_S = 0.1;
/**
 * What one ffmpeg stop (a camera session) may leave unaccounted: one frame of the video received
 * (the relay's output frame interval: 0.2 s at 5 fps, the camera's 0.1 s with --codec copy) and a
 * step too short to declare. A graceful stop keeps the frames an interrupted ffmpeg used to drop
 * (src/camera/ffmpeg-args.ts) and declares what it cut off; a kill's tail is the next run's
 * `relay-killed` hole. Measured across the e2e suite, 2026-12-03: at most +0.2 s with --codec copy,
 * never above 0 re-encoding (Debian's 5.1 and the bundled 4.1 alike).
 */
export function perStopAllowanceS(run: Pick<RunAccount, 'frameS'>): number {
  return run.frameS + UNDECLARED_STEP_S;
}

/**
 * What may be received beyond what was streamed, per session: the camera counts its 10 fps frames,
 * a re-encoded timeline 5 fps ones, so the last one reaches past the camera's (up to a frame and a
 * half measured). Excess is never a loss.
 */
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
}

/**
 * The zero-loss check, from outside the relay: every second the camera streamed to it was
 * received by the ingest (measured from the stored segments' PTS) or declared lost, within
 * perStopAllowanceS per camera session; in order as received; no duplicate beyond what keys explain.
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
  for (const run of accounting.runs) expectRunAccounted(run, report, check.inOrder ?? true);
  return accounting;
}

/** One run: in order, no duplicate, no hole left undeclared, nothing lost beyond the allowance. */
export function expectRunAccounted(run: RunAccount, report: string, inOrder = true): void {
  const perStopS = perStopAllowanceS(run);
  logAccount(run, perStopS);
  expect(run.segments, report).toBeGreaterThan(0);
  if (inOrder) expect(run.outOfOrder, report).toBe(0);
  expect(run.ptsDuplicates, report).toBe(0);
  expect(run.ffmpegRuns, report).toBeLessThanOrEqual(run.sessions);
  expect(run.holesS, report).toBeLessThanOrEqual(run.declaredS + 0.001);
  const placement = run.uncapturedS > 0 ? HOLE_PLACEMENT_S : 0;
  expect(run.undeclaredS, report).toBeGreaterThanOrEqual(-EXCESS_S * run.sessions - placement);
  expect(run.undeclaredS, report).toBeLessThanOrEqual(perStopS * run.sessions + 0.001);
}

/**
 * With TRIO_ACCOUNT_LOG=<file>, every judged run is appended there as a JSON line: how the
 * allowances above were measured, across a whole `npm test`.
 */
function logAccount(run: RunAccount, perStopS: number): void {
  const file = process.env.TRIO_ACCOUNT_LOG;
  if (!file) return;
  const { label, sessions, streamedS, receivedS, declaredS, uncapturedS, undeclaredS, frameS } = run;
  const test = expect.getState().currentTestName;
  const line = {
    test,
    label,
    sessions,
    streamedS,
    receivedS,
    declaredS,
    uncapturedS,
    undeclaredS,
    frameS,
    perStopS,
  };
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
