import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { GapReason } from '../types.js';
import { readNoFollow, writeFileAtomic } from './fsutil.js';
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

/**
 * A hole in the timeline, announced on the next delivered segment: segments dropped before they
 * were delivered (seqFrom..seqTo), or time never captured (an empty range, seqTo = seqFrom − 1,
 * right before the segment seqFrom).
 */
export interface GapRecord {
  readonly seqFrom: number;
  readonly seqTo: number;
  readonly start: string;
  readonly end: string;
  readonly reason: GapReason;
  readonly bytes: number;
}

/** Who owns a spool dir: enough to tell a live relay from a dead one, across pid reuse. */
export interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** /proc/<pid>/stat start time (clock ticks since boot), to detect pid reuse. */
  readonly procStart?: string | undefined;
  readonly ffmpegPid?: number | undefined;
}

/** A spool dir's state as its journal tells it. */
export interface JournalData {
  readonly version: 2;
  readonly cameraId: string;
  readonly runId: string;
  readonly owner: Owner;
  readonly nextSequence: number;
  readonly segments: readonly SegmentRecord[];
  readonly gaps: readonly GapRecord[];
  /** ISO end of the last video captured for this camera (any run): where a next hole begins. */
  readonly capturedUntil?: string | undefined;
}

/**
 * One line of the append-only journal. The first line of a file is always a `head` holding a
 * whole snapshot; every later line is one change, so a change costs one short append and one
 * fdatasync whatever the backlog.
 */
export type JournalEntry =
  | { readonly op: 'head'; readonly state: JournalData }
  | { readonly op: 'add'; readonly segment: SegmentRecord }
  | { readonly op: 'del'; readonly sequence: number }
  | { readonly op: 'gaps'; readonly gaps: readonly GapRecord[] }
  | { readonly op: 'next'; readonly nextSequence: number }
  | { readonly op: 'owner'; readonly owner: Owner };

export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

/**
 * Read a spool dir's journal; undefined when there is none or its head is unreadable. A torn
 * last line (a crash mid-append) is ignored.
 */
export async function readJournal(dir: string): Promise<JournalData | undefined> {
  const text = await readNoFollow(journalPath(dir));
  return text === undefined ? undefined : replay(text);
}

/** Rebuild the state from a journal's lines; undefined when the first line is not a valid head. */
export function replay(text: string): JournalData | undefined {
  const lines = text.split('\n');
  const head = parseLine(lines[0] ?? '');
  if (head?.op !== 'head' || !isJournalData(head.state)) return undefined;
  const segments = new Map<number, SegmentRecord>();
  for (const s of head.state.segments) segments.set(s.sequence, s);
  let { gaps, nextSequence, owner, capturedUntil } = head.state;
  for (const line of lines.slice(1)) {
    const entry = parseLine(line);
    switch (entry?.op) {
      case 'add':
        segments.set(entry.segment.sequence, entry.segment);
        nextSequence = Math.max(nextSequence, entry.segment.sequence + 1);
        capturedUntil = laterIso(capturedUntil, segmentEnd(entry.segment));
        break;
      case 'del':
        segments.delete(entry.sequence);
        break;
      case 'gaps':
        gaps = entry.gaps;
        break;
      case 'next':
        nextSequence = Math.max(nextSequence, entry.nextSequence);
        break;
      case 'owner':
        owner = entry.owner;
        break;
      default:
      // a torn or unknown line: skip it, the rest still applies
    }
  }
  for (const gap of gaps) capturedUntil = laterIso(capturedUntil, gap.end);
  return { ...head.state, owner, nextSequence, gaps, segments: [...segments.values()], capturedUntil };
}

/** ISO end of a segment's video. */
export function segmentEnd(segment: Pick<SegmentRecord, 'start' | 'durationS'>): string {
  return new Date(Date.parse(segment.start) + segment.durationS * 1000).toISOString();
}

/** The later of two ISO instants (either may be missing or unreadable). */
export function laterIso(a: string | undefined, b: string | undefined): string | undefined {
  const ms = (x: string | undefined) => (x === undefined ? Number.NaN : Date.parse(x));
  if (Number.isNaN(ms(b))) return Number.isNaN(ms(a)) ? undefined : a;
  if (Number.isNaN(ms(a))) return b;
  return ms(b) > ms(a) ? b : a;
}

/**
 * The open journal of this run's spool dir. Appends are group-committed: changes made while a
 * write is under way go out together in the next write with a single fdatasync. The file is
 * compacted (rewritten as one head) when the changes outnumber the live records, so it stays
 * proportional to the backlog. After a failed append the next write is a full rewrite, so a
 * torn line can never be followed by good ones.
 */
export class JournalWriter {
  readonly #path: string;
  readonly #snapshot: () => JournalData;
  #handle: FileHandle | undefined;
  #pending: JournalEntry[] = [];
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #writing = false;
  #lines = 0;
  #rewrite = true;
  #closed = false;

  /** `snapshot` gives the whole current state, for the head of a rewrite. */
  constructor(dir: string, snapshot: () => JournalData) {
    this.#path = journalPath(dir);
    this.#snapshot = snapshot;
  }

  /** Queue changes; resolves once they (and everything queued before) are on disk. */
  append(...entries: JournalEntry[]): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#pending.push(...entries);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (!this.#writing) void this.#flush();
    });
  }

  /** Write the whole state as a fresh head now (creation, or after adopting orphans). */
  rewrite(): Promise<void> {
    this.#rewrite = true;
    return this.append();
  }

  async close(): Promise<void> {
    while (this.#writing || this.#waiters.length > 0) await this.append().catch(() => {});
    this.#closed = true;
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    while (this.#waiters.length > 0) {
      const entries = this.#pending;
      const waiters = this.#waiters;
      this.#pending = [];
      this.#waiters = [];
      try {
        const live = this.#snapshot().segments.length;
        if (this.#rewrite || this.#lines + entries.length > 2 * live + 256) await this.#writeHead();
        else await this.#appendLines(entries);
        for (const w of waiters) w.resolve();
      } catch (error) {
        this.#rewrite = true;
        for (const w of waiters) w.reject(error);
      }
    }
    this.#writing = false;
  }

  async #appendLines(entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const handle = await this.#open();
    await handle.appendFile(entries.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
    await handle.datasync();
    this.#lines += entries.length;
  }

  async #writeHead(): Promise<void> {
    const head: JournalEntry = { op: 'head', state: this.#snapshot() };
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
    await writeFileAtomic(this.#path, `${JSON.stringify(head)}\n`);
    this.#rewrite = false;
    this.#lines = 0;
  }

  async #open(): Promise<FileHandle> {
    this.#handle ??= await open(
      this.#path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW,
      0o600,
    );
    return this.#handle;
  }
}

function parseLine(line: string): JournalEntry | undefined {
  if (!line.trim()) return undefined;
  try {
    const value = JSON.parse(line) as Partial<JournalEntry> | null;
    return value && typeof value === 'object' && typeof value.op === 'string'
      ? (value as JournalEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

function isJournalData(value: unknown): value is JournalData {
  const data = value as Partial<JournalData> | undefined;
  return (
    typeof data === 'object' &&
    data !== null &&
    data.version === 2 &&
    typeof data.cameraId === 'string' &&
    typeof data.runId === 'string' &&
    typeof data.nextSequence === 'number' &&
    typeof data.owner === 'object' &&
    Array.isArray(data.segments) &&
    Array.isArray(data.gaps)
  );
}
