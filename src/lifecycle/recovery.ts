import { readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type CameraState, readCameraState, writeCameraState } from '../spool/camera-state.js';
import type { GapRecord, JournalData, SegmentRecord } from '../spool/journal.js';
import { CameraLock } from '../spool/lock.js';
import { gapOf, recordLoss } from '../spool/losses.js';
import { segmentSequence } from '../spool/naming.js';
import { pidAlive } from '../spool/owner.js';
import { type SegmentProber, salvagePartial } from '../spool/salvage.js';
import { type SpoolDirInfo, scanSpoolRoot } from '../spool/scan.js';
import type { RecoverySpool } from '../spool/spool.js';
import type { Emit } from '../telemetry/events.js';

export interface RecoveryOptions {
  readonly spool: RecoverySpool;
  readonly staleAfterMs: number;
  readonly prober: SegmentProber;
  readonly emit: Emit;
  /** A stop request: finish the file at hand and leave the rest for the next start. */
  readonly signal?: AbortSignal | undefined;
}

export interface RecoveryReport {
  readonly adopted: SegmentRecord[];
  readonly removedStale: number;
  readonly leftAlone: number;
}

/** Camera name in the ledger for a dead dir that says neither in its journal nor in its name. */
const UNKNOWN_CAMERA = 'unknown';

/**
 * The startup sweep. Runs before capture and uploads start, so it cannot race them; the caller
 * holds this camera's lock, so no other relay of this camera can be adopting at the same time.
 * - this camera's orphans are adopted into the new spool, oldest first, keeping their sequence,
 *   start and idempotency key; a dir without a journal is recognised by its name; a partial
 *   segment is salvaged, or its lost capture recorded;
 * - dirs of a live relay (its camera's lock held) are left alone;
 * - other cameras' orphans are removed once older than --stale-after: every segment in them is
 *   written to the loss ledger and carried into that camera's state, so its next run announces it.
 * Every step is journaled before files move, so a stop or a kill in the middle loses nothing.
 * An error on one dir is reported and skipped: the sweep never stops the relay.
 */
export async function sweepAndRecover(options: RecoveryOptions): Promise<RecoveryReport> {
  const { spool, emit } = options;
  const report = { adopted: [] as SegmentRecord[], removedStale: 0, leftAlone: 0 };
  let scan: Awaited<ReturnType<typeof scanSpoolRoot>>;
  try {
    scan = await scanSpoolRoot(spool.root, options.staleAfterMs);
  } catch (error) {
    emit({ type: 'log', level: 'warn', message: `spool sweep skipped: ${String(error)}` });
    return report;
  }
  for (const { path, why } of scan.skipped)
    emit({ type: 'log', level: 'debug', message: `sweep: left ${path} (${why})` });
  report.leftAlone += scan.skipped.length;
  const orphans = scan.dirs
    .filter((d) => d.path !== spool.dir)
    // Oldest first: by the dead run's start, else (no journal) by the dir's age.
    .sort((a, b) => startedAt(a) - startedAt(b));
  for (const dir of orphans) {
    if (options.signal?.aborted) break;
    try {
      if (dir.cameraId === spool.cameraId && !(dir.legacy && dir.alive)) {
        // We hold this camera's lock: any other dir of it is an orphan (but a relay of an
        // earlier release, which took no lock, may still be running one).
        report.adopted.push(...(await adopt(dir, options)));
      } else if (dir.alive) {
        report.leftAlone++;
      } else if (dir.ageMs > options.staleAfterMs) {
        if (await removeStale(dir, spool.root, emit)) report.removedStale++;
        else report.leftAlone++;
      } else {
        report.leftAlone++;
      }
    } catch (error) {
      emit({ type: 'log', level: 'warn', message: `sweep: could not handle ${dir.path}: ${String(error)}` });
    }
  }
  return { ...report, adopted: report.adopted.sort((a, b) => a.sequence - b.sequence) };
}

function startedAt(dir: SpoolDirInfo): number {
  const started = dir.journal ? Date.parse(dir.journal.owner.startedAt) : Number.NaN;
  return Number.isNaN(started) ? Date.now() - dir.ageMs : started;
}

async function adopt(dir: SpoolDirInfo, options: RecoveryOptions): Promise<SegmentRecord[]> {
  const { spool, emit, prober, signal } = options;
  const journal: JournalData | undefined = dir.journal;
  killLeftoverFfmpeg(journal?.owner.ffmpegPid, dir.path, emit);
  emit({ type: 'state', state: 'recovering', detail: dir.path });
  if (journal) spool.reserveSequencesBelow(journal.nextSequence);
  else
    emit({
      type: 'log',
      level: 'warn',
      message: `${dir.path} has no readable journal: recovering its segments from the files themselves`,
    });
  const runId = journal?.runId ?? basename(dir.path).slice(-12);
  const adopted: SegmentRecord[] = [];
  const journaled = new Set<string>();
  let lastEndMs: number | undefined;
  let complete = true;
  for (const record of [...(journal?.segments ?? [])].sort((a, b) => a.sequence - b.sequence)) {
    journaled.add(record.name);
    if (signal?.aborted) {
      complete = false;
      break;
    }
    const from = join(dir.path, record.name);
    // Missing: it was delivered (or dropped and recorded) after the journal was written.
    if (!(await stat(from).catch(() => undefined))) continue;
    adopted.push(await spool.adopt(record, from));
    lastEndMs = Date.parse(record.start) + record.durationS * 1000;
  }
  const files = complete ? (await readdir(dir.path)).sort() : [];
  for (const name of files) {
    const sequence = segmentSequence(name);
    if (sequence === undefined || journaled.has(name)) continue;
    if (signal?.aborted) {
      complete = false;
      break;
    }
    const file = join(dir.path, name);
    const salvage = await salvagePartial(file, prober);
    spool.reserveSequencesBelow(sequence + 1);
    if (salvage.kind === 'kept' || salvage.kind === 'unprobed') {
      const durationS = salvage.kind === 'kept' ? salvage.durationS : sinceS(lastEndMs, salvage.mtimeMs);
      const startMs = lastEndMs ?? salvage.mtimeMs - durationS * 1000;
      const record: SegmentRecord = {
        name,
        sequence,
        start: new Date(startMs).toISOString(),
        durationS: Math.round(durationS * 1000) / 1000,
        bytes: salvage.bytes,
        idempotencyKey: `${spool.cameraId}:${runId}:${sequence}`,
      };
      adopted.push(await spool.adopt(record, file));
      lastEndMs = startMs + durationS * 1000;
      emit({ type: 'segment', phase: 'salvaged', sequence, bytes: salvage.bytes });
      if (salvage.kind === 'unprobed')
        emit({ type: 'log', level: 'warn', message: `kept ${name} unprobed: ${salvage.why}` });
    } else if (salvage.kind === 'lost') {
      const startMs = lastEndMs ?? salvage.mtimeMs;
      await spool.recordLost(
        {
          sequence,
          start: new Date(startMs),
          durationS: sinceS(startMs, salvage.mtimeMs),
          bytes: salvage.bytes,
        },
        'unsalvageable',
      );
    } else {
      // No frame was written into it: nothing was lost, but it is counted.
      emit({ type: 'segment', phase: 'discarded', sequence, bytes: salvage.bytes, reason: 'empty' });
    }
  }
  await spool.adoptGaps(journal?.gaps ?? []);
  spool.adoptCapturedUntil(journal?.capturedUntil);
  // The new journal lists the moved files before the old dir goes.
  await spool.commitAdoption();
  if (complete) await rm(dir.path, { recursive: true, force: true });
  emit({
    type: 'log',
    level: 'info',
    message: `recovered ${adopted.length} segment(s) left by an earlier run${journal ? ` (pid ${journal.owner.pid})` : ''} from ${dir.path}`,
  });
  return adopted;
}

/**
 * Another camera's dead spool past --stale-after. Its lock is taken while we work, so that
 * camera cannot start and adopt the dir meanwhile. Every segment in it, journaled or not, and
 * every gap it had not announced is written to the loss ledger and carried into that camera's
 * state, so its next run announces them to the cloud. Returns false when its relay came back.
 */
async function removeStale(dir: SpoolDirInfo, root: string, emit: Emit): Promise<boolean> {
  const camera = dir.cameraId ?? UNKNOWN_CAMERA;
  let lock: CameraLock | undefined;
  if (dir.cameraId !== undefined) {
    try {
      lock = await CameraLock.acquire(root, dir.cameraId);
    } catch {
      return false; // its relay holds the lock again: the dir is live
    }
  }
  try {
    const gaps = await staleGaps(dir);
    for (const gap of gaps) await recordLoss(root, camera, gap);
    if (dir.cameraId !== undefined && gaps.length > 0) {
      const state: CameraState = await readCameraState(root, dir.cameraId);
      await writeCameraState(root, dir.cameraId, {
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
    await lock?.release();
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

function sinceS(fromMs: number | undefined, toMs: number): number {
  return fromMs === undefined ? 0 : Math.max(0, (toMs - fromMs) / 1000);
}

/** A previous run's ffmpeg that outlived its relay would keep writing into the orphan: stop it. */
function killLeftoverFfmpeg(pid: number | undefined, dir: string, emit: Emit): void {
  if (pid === undefined || !pidAlive(pid)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  // Only a process that is ffmpeg writing into that very dir: a reused pid must not be killed.
  if (!cmdline.includes('ffmpeg') || !cmdline.includes(dir)) return;
  try {
    process.kill(pid, 'SIGKILL');
    emit({ type: 'log', level: 'warn', message: `killed ffmpeg ${pid} left running by a dead relay` });
  } catch {
    // Gone meanwhile.
  }
}
