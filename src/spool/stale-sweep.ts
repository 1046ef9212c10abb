import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessEvent } from '../telemetry/events.js';
import { type CameraState, readCameraState, writeCameraState } from './camera-state.js';
import type { GapRecord } from './journal.js';
import { CameraLock } from './lock.js';
import { gapOf, recordLoss } from './losses.js';
import { segmentSequence } from './naming.js';
import { type SpoolDirInfo, scanSpoolRoot } from './scan.js';

/** The sweep says only log lines, for the process rather than one camera. */
type Emit = (event: ProcessEvent) => void;

/** A camera this process runs: its own dirs are its adoption's, never the sweep's. */
export interface SweptCamera {
  readonly root: string;
  readonly cameraId: string;
  /** --stale-after: a dead dir of another camera is removed once older than this. */
  readonly staleAfterMs: number;
}

export interface SweepReport {
  readonly removedStale: number;
  readonly leftAlone: number;
}

/**
 * The startup sweep of every spool root this process uses, once per process before its cameras
 * start. Dirs of a live relay (its camera's lock held) are left alone; a dead dir of a camera
 * this process does not run is removed once older than --stale-after, every segment in it
 * written to the loss ledger and carried into that camera's state, so its next run announces
 * it. An error on one dir is reported and skipped: the sweep never stops the relay.
 */
export async function sweepStaleSpools(cameras: readonly SweptCamera[], emit: Emit): Promise<SweepReport> {
  const report = { removedStale: 0, leftAlone: 0 };
  const roots = new Map<string, { staleAfterMs: number; ours: Set<string> }>();
  for (const { root, cameraId, staleAfterMs } of cameras) {
    const entry = roots.get(root) ?? { staleAfterMs, ours: new Set<string>() };
    entry.ours.add(cameraId);
    roots.set(root, entry);
  }
  for (const [root, { staleAfterMs, ours }] of roots) {
    const swept = await sweepRoot(root, staleAfterMs, ours, emit);
    report.removedStale += swept.removedStale;
    report.leftAlone += swept.leftAlone;
  }
  return report;
}

async function sweepRoot(
  root: string,
  staleAfterMs: number,
  ours: ReadonlySet<string>,
  emit: Emit,
): Promise<SweepReport> {
  const report = { removedStale: 0, leftAlone: 0 };
  let scan: Awaited<ReturnType<typeof scanSpoolRoot>>;
  try {
    scan = await scanSpoolRoot(root, staleAfterMs);
  } catch (error) {
    emit({ type: 'log', level: 'warn', message: `spool sweep skipped: ${String(error)}` });
    return report;
  }
  for (const { path, why } of scan.skipped)
    emit({ type: 'log', level: 'debug', message: `sweep: left ${path} (${why})` });
  report.leftAlone += scan.skipped.length;
  for (const dir of scan.dirs) {
    if (ours.has(dir.cameraId)) continue;
    try {
      if (!dir.alive && dir.ageMs > staleAfterMs && (await removeStale(dir, root, emit)))
        report.removedStale++;
      else report.leftAlone++;
    } catch (error) {
      emit({ type: 'log', level: 'warn', message: `sweep: could not handle ${dir.path}: ${String(error)}` });
    }
  }
  return report;
}

/**
 * Another camera's dead spool past --stale-after. Its lock is taken while we work, so that
 * camera cannot start and adopt the dir meanwhile. Every segment in it, journaled or not, and
 * every gap it had not announced is written to the loss ledger and carried into that camera's
 * state, so its next run announces them to the cloud. Returns false when its relay came back.
 */
async function removeStale(dir: SpoolDirInfo, root: string, emit: Emit): Promise<boolean> {
  const camera = dir.cameraId;
  let lock: CameraLock;
  try {
    lock = await CameraLock.acquire(root, camera);
  } catch {
    return false; // its relay holds the lock again: the dir is live
  }
  try {
    const gaps = await staleGaps(dir);
    for (const gap of gaps) await recordLoss(root, camera, gap);
    if (gaps.length > 0) {
      const state: CameraState = await readCameraState(root, camera);
      await writeCameraState(root, camera, {
        ...state,
        nextSequence: Math.max(
          state.nextSequence,
          dir.journal?.nextSequence ?? 0,
          ...gaps.map((g) => g.seqTo + 1),
        ),
        gaps: [...state.gaps, ...gaps],
      });
    }
    await rm(dir.path, { recursive: true, force: true });
    const lost = gaps.filter((g) => g.reason === 'stale').length;
    emit({
      type: 'log',
      level: lost > 0 ? 'warn' : 'info',
      message: `sweep: removed stale spool ${dir.path} of camera ${camera} with ${lost} undelivered segment(s), recorded in the loss ledger`,
    });
    return true;
  } finally {
    await lock.release();
  }
}

/** The losses a stale dir holds: its pending segments (journaled or not) and unannounced gaps. */
async function staleGaps(dir: SpoolDirInfo): Promise<GapRecord[]> {
  const gaps: GapRecord[] = [...(dir.journal?.gaps ?? [])];
  const journaled = new Map((dir.journal?.segments ?? []).map((s) => [s.name, s]));
  for (const name of (await readdir(dir.path)).sort()) {
    const sequence = segmentSequence(name);
    if (sequence === undefined) continue;
    const info = await stat(join(dir.path, name)).catch(() => undefined);
    if (!info) continue;
    const record = journaled.get(name);
    gaps.push(
      record
        ? gapOf(record, 'stale')
        : gapOf(
            { sequence, start: new Date(info.mtimeMs).toISOString(), durationS: 0, bytes: info.size },
            'stale',
          ),
    );
  }
  return gaps;
}
