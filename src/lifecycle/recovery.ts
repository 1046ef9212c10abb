import { readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SegmentProber } from '../camera/probe-segment.js';
import type { GapRecord, JournalData, SegmentRecord } from '../spool/journal.js';
import { recordLoss } from '../spool/losses.js';
import { segmentSequence } from '../spool/naming.js';
import { pidAlive } from '../spool/owner.js';
import { salvagePartial } from '../spool/salvage.js';
import { type SpoolDirInfo, scanSpoolRoot } from '../spool/scan.js';
import type { Spool } from '../spool/spool.js';
import type { Emit } from '../telemetry/events.js';

export interface RecoveryOptions {
  readonly spool: Spool;
  readonly staleAfterMs: number;
  readonly prober: SegmentProber;
  readonly emit: Emit;
}

export interface RecoveryReport {
  readonly adopted: SegmentRecord[];
  readonly removedStale: number;
  readonly leftAlone: number;
}

/**
 * The startup sweep. Runs before capture and uploads start, so it cannot race them:
 * - this camera's orphans (owner dead) are adopted into the new spool, oldest first, keeping
 *   their sequence, start and idempotency key; a partial segment is salvaged or counted;
 * - dirs of a live relay are left alone (several relays may share a spool root);
 * - other cameras' orphans are removed once older than --stale-after, their loss recorded.
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
    .sort((a, b) => (a.journal?.owner.startedAt ?? '').localeCompare(b.journal?.owner.startedAt ?? ''));
  for (const dir of orphans) {
    try {
      if (dir.alive) {
        report.leftAlone++;
      } else if (dir.journal?.cameraId === spool.cameraId) {
        report.adopted.push(...(await adopt(dir, dir.journal, options)));
      } else if (dir.ageMs > options.staleAfterMs) {
        await removeStale(dir, spool.root, emit);
        report.removedStale++;
      } else {
        report.leftAlone++;
      }
    } catch (error) {
      emit({ type: 'log', level: 'warn', message: `sweep: could not handle ${dir.path}: ${String(error)}` });
    }
  }
  return { ...report, adopted: report.adopted.sort((a, b) => a.sequence - b.sequence) };
}

async function adopt(
  dir: SpoolDirInfo,
  journal: JournalData,
  options: RecoveryOptions,
): Promise<SegmentRecord[]> {
  const { spool, emit, prober } = options;
  killLeftoverFfmpeg(journal.owner.ffmpegPid, dir.path, emit);
  emit({ type: 'state', state: 'recovering', detail: dir.path });
  spool.reserveSequencesBelow(journal.nextSequence);
  const adopted: SegmentRecord[] = [];
  const journaled = new Set<string>();
  let lastEndMs: number | undefined;
  for (const record of [...journal.segments].sort((a, b) => a.sequence - b.sequence)) {
    journaled.add(record.name);
    const from = join(dir.path, record.name);
    // Missing: it was delivered (or dropped and recorded) after the journal was written.
    if (!(await stat(from).catch(() => undefined))) continue;
    await spool.adopt(record, from);
    adopted.push(record);
    lastEndMs = Date.parse(record.start) + record.durationS * 1000;
  }
  for (const name of (await readdir(dir.path)).sort()) {
    const sequence = segmentSequence(name);
    if (sequence === undefined || journaled.has(name)) continue;
    const file = join(dir.path, name);
    const salvage = await salvagePartial(file, prober);
    if (salvage.kept) {
      spool.reserveSequencesBelow(sequence + 1);
      const startMs = lastEndMs ?? salvage.mtimeMs - salvage.durationS * 1000;
      const record: SegmentRecord = {
        name,
        sequence,
        start: new Date(startMs).toISOString(),
        durationS: Math.round(salvage.durationS * 1000) / 1000,
        bytes: salvage.bytes,
        idempotencyKey: `${journal.cameraId}:${journal.runId}:${sequence}`,
      };
      await spool.adopt(record, file);
      adopted.push(record);
      emit({ type: 'segment', phase: 'salvaged', sequence, bytes: salvage.bytes });
    } else {
      // No video packet in it: nothing was lost, but it is counted.
      emit({
        type: 'segment',
        phase: 'discarded',
        sequence,
        bytes: salvage.bytes,
        reason: 'partial-undecodable',
      });
    }
  }
  spool.adoptGaps(journal.gaps);
  // The new journal must list the moved files before the old one goes.
  await spool.commitAdoption();
  await rm(dir.path, { recursive: true, force: true });
  emit({
    type: 'log',
    level: 'info',
    message: `recovered ${adopted.length} segment(s) left by an earlier run (pid ${journal.owner.pid}) from ${dir.path}`,
  });
  return adopted;
}

/** Another camera's dead spool past --stale-after: its undelivered segments are recorded as lost. */
async function removeStale(dir: SpoolDirInfo, root: string, emit: Emit): Promise<void> {
  const journal = dir.journal;
  if (journal) {
    for (const s of journal.segments) {
      const gap: GapRecord = {
        seqFrom: s.sequence,
        seqTo: s.sequence,
        start: s.start,
        end: new Date(Date.parse(s.start) + s.durationS * 1000).toISOString(),
        reason: 'stale',
        bytes: s.bytes,
      };
      await recordLoss(root, journal.cameraId, gap).catch(() => {});
    }
  }
  await rm(dir.path, { recursive: true, force: true });
  emit({
    type: 'log',
    level: journal?.segments.length ? 'warn' : 'info',
    message: `sweep: removed stale spool ${dir.path}${journal ? ` of camera ${journal.cameraId} with ${journal.segments.length} undelivered segment(s)` : ''}`,
  });
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
