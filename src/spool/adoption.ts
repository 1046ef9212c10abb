import { readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { round3 } from '../seconds.js';
import type { Emit } from '../telemetry/events.js';
import type { JournalData, SegmentRecord } from './journal.js';
import { idempotencyKey, segmentSequence } from './naming.js';
import { pidAlive } from './owner.js';
import { AfterLastSegment, type SegmentProber, salvagePartial, settleSalvage } from './salvage.js';
import { type SpoolDirInfo, scanSpoolRoot } from './scan.js';
import type { RecoverySpool } from './spool-roles.js';

export interface AdoptionOptions {
  readonly spool: RecoverySpool;
  readonly staleAfterMs: number;
  readonly prober: SegmentProber;
  readonly emit: Emit;
  /** A stop request: finish the file at hand and leave the rest for the next start. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * This camera's start: every other spool dir of this camera is an orphan of an earlier run (the
 * caller holds the camera's lock) and is adopted into the new spool, oldest first, keeping each
 * segment's sequence, start and idempotency key. A dir without a journal is recognised by its
 * name; a partial segment is salvaged, or its lost capture recorded. Every step is journaled
 * before files move, so a stop or a kill in the middle loses nothing. An error on one dir is
 * reported and skipped: adoption never stops the relay. Other cameras' dirs are the stale
 * sweep's (stale-sweep.ts), once per process. Returns the adopted segments by sequence.
 */
export async function adoptOrphans(options: AdoptionOptions): Promise<SegmentRecord[]> {
  const { spool, emit } = options;
  let dirs: SpoolDirInfo[];
  try {
    dirs = (await scanSpoolRoot(spool.root, options.staleAfterMs)).dirs;
  } catch (error) {
    emit({ type: 'log', level: 'warn', message: `spool recovery skipped: ${String(error)}` });
    return [];
  }
  const orphans = dirs
    .filter((d) => d.path !== spool.dir && d.cameraId === spool.cameraId)
    // Oldest first: by the dead run's start, else (no journal) by the dir's age.
    .sort((a, b) => startedAt(a) - startedAt(b));
  const adopted: SegmentRecord[] = [];
  for (const dir of orphans) {
    if (options.signal?.aborted) break;
    try {
      adopted.push(...(await adoptDir(dir, options)));
    } catch (error) {
      emit({ type: 'log', level: 'warn', message: `sweep: could not handle ${dir.path}: ${String(error)}` });
    }
  }
  return adopted.sort((a, b) => a.sequence - b.sequence);
}

function startedAt(dir: SpoolDirInfo): number {
  const started = dir.journal ? Date.parse(dir.journal.owner.startedAt) : Number.NaN;
  return Number.isNaN(started) ? Date.now() - dir.ageMs : started;
}

async function adoptDir(dir: SpoolDirInfo, options: AdoptionOptions): Promise<SegmentRecord[]> {
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
  const clock = new AfterLastSegment();
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
    clock.follow(Date.parse(record.start) + record.durationS * 1000);
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
    spool.reserveSequencesBelow(sequence + 1);
    const target = {
      keep: (start: Date, durationS: number, bytes: number) =>
        spool.adopt(
          {
            name,
            sequence,
            start: start.toISOString(),
            durationS: round3(durationS),
            bytes,
            idempotencyKey: idempotencyKey(spool.cameraId, runId, sequence),
          },
          file,
        ),
      recordLost: spool.recordLost.bind(spool),
    };
    const salvage = await salvagePartial(file, prober);
    const record = await settleSalvage(salvage, file, sequence, clock, target, emit);
    if (record) adopted.push(record);
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
