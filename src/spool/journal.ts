import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './fsutil.js';
import { JOURNAL_FILE } from './naming.js';

/** A closed segment waiting for the ingest's acknowledgement. */
export interface SegmentRecord {
  readonly name: string;
  readonly sequence: number;
  /** ISO-8601 UTC wall clock of the segment's first frame. */
  readonly start: string;
  readonly durationS: number;
  readonly bytes: number;
  /** Stable across retries and restarts, so the cloud can de-duplicate. */
  readonly idempotencyKey: string;
  /** Seconds the wall clock jumped just before this segment, if it did. */
  readonly clockJumpS?: number | undefined;
}

/** Segments dropped before they were delivered; announced on the next delivered segment. */
export interface GapRecord {
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly start: string;
  readonly end: string;
  readonly reason: LossReason;
  readonly bytes: number;
}

/**
 * Why a segment was not delivered: over --max-spool-mb, ENOSPC, refused by the ingest (4xx),
 * file gone, listed by ffmpeg but never written, another camera's spool past --stale-after.
 */
export type LossReason = 'evicted' | 'disk-full' | 'rejected' | 'unreadable' | 'write-failed' | 'stale';

/** Who owns a spool dir: enough to tell a live relay from a dead one, across pid reuse. */
export interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** /proc/<pid>/stat start time (clock ticks since boot), to detect pid reuse. */
  readonly procStart?: string | undefined;
  readonly ffmpegPid?: number | undefined;
}

export interface JournalData {
  readonly version: 1;
  readonly cameraId: string;
  readonly runId: string;
  readonly owner: Owner;
  readonly nextSequence: number;
  readonly segments: readonly SegmentRecord[];
  readonly gaps: readonly GapRecord[];
}

export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

/** Read a spool dir's journal; undefined when missing or unreadable (treated as no journal). */
export async function readJournal(dir: string): Promise<JournalData | undefined> {
  let text: string;
  try {
    text = await readFile(journalPath(dir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const data = JSON.parse(text) as Partial<JournalData>;
    if (data.version !== 1 || typeof data.cameraId !== 'string' || !Array.isArray(data.segments))
      return undefined;
    return { ...data, gaps: data.gaps ?? [] } as JournalData;
  } catch {
    return undefined;
  }
}

/** Persist by write-then-rename with fsync: a crash leaves the old or the new journal, never half. */
export async function writeJournal(dir: string, data: JournalData): Promise<void> {
  await writeFileAtomic(journalPath(dir), `${JSON.stringify(data)}\n`);
}
