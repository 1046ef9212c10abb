import { randomBytes } from 'node:crypto';
import { rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import tmp from 'tmp';
import { SpoolError } from '../errors.js';
import type { Emit } from '../telemetry/events.js';
import type { LossReason, UncapturedReason } from '../types.js';
import { type LastRun, readCameraState, writeCameraState } from './camera-state.js';
import { fsyncDir, fsyncPath } from './fsutil.js';
import {
  type GapRecord,
  type JournalData,
  type JournalEntry,
  JournalWriter,
  laterIso,
  type SegmentRecord,
  segmentEnd,
} from './journal.js';
import { gapOf, recordLoss } from './losses.js';
import { SEGMENT_PATTERN, segmentName, segmentSequence, spoolDirPrefix } from './naming.js';
import { currentOwner } from './owner.js';
import { moveToRejected, rejectedUsage } from './rejected.js';
import type { SharedSpoolBound } from './shared-bound.js';

export interface SpoolOptions {
  readonly root: string;
  readonly cameraId: string;
  /** Bound of this camera's pending segments and its rejected/ folder together. */
  readonly maxBytes: number;
  /** The bound over every camera's spool of the process (--max-total-spool-mb), if any. */
  readonly sharedBound?: SharedSpoolBound | undefined;
  readonly emit: Emit;
}

export interface ClosedSegment {
  readonly name: string;
  readonly start: Date;
  readonly durationS: number;
  readonly clockJumpS?: number | undefined;
  /**
   * An empty file listed after we stopped ffmpeg holds no frames; one listed while ffmpeg runs
   * is video it failed to write (a full disk), which is a loss.
   */
  readonly emptyIsLoss?: boolean;
  /**
   * The last, partial segment of a stop: when the bound is reached it is the one dropped, not
   * an older complete segment.
   */
  readonly final?: boolean;
}

/** A stretch of capture that could not be kept (a partial segment with no decodable video). */
export interface LostCapture {
  readonly sequence: number;
  readonly start: Date;
  readonly durationS: number;
  readonly bytes: number;
}

/** What capture (the supervisor) does with the spool: name, add and account for segments. */
export interface CaptureSpool {
  readonly dir: string;
  readonly outputPattern: string;
  readonly nextSequence: number;
  setFfmpegPid(pid: number | undefined): Promise<void>;
  addClosed(segment: ClosedSegment): Promise<SegmentRecord | undefined>;
  recordLost(lost: LostCapture, reason: LossReason): Promise<void>;
  freeSpace(reason: LossReason): Promise<void>;
  /** Capture stopped here for this reason: the next closed segment declares the hole before it. */
  expectHole(reason: UncapturedReason): void;
}

/** What delivery (the uploader) does with the spool: read, claim and settle segments. */
export interface DeliverySpool {
  gaps(): readonly GapRecord[];
  pathOf(record: SegmentRecord): string;
  beginUpload(sequence: number): boolean;
  endUpload(sequence: number): void;
  delivered(sequence: number, announced: readonly GapRecord[]): Promise<void>;
  reject(sequence: number, status: number, body: string): Promise<void>;
  drop(sequence: number, reason: LossReason): Promise<void>;
}

/** What recovery does with the spool: take over an earlier run's segments and gaps. */
export interface RecoverySpool {
  readonly root: string;
  readonly dir: string;
  readonly cameraId: string;
  reserveSequencesBelow(next: number): void;
  adopt(record: SegmentRecord, fromPath: string): Promise<SegmentRecord>;
  adoptGaps(gaps: readonly GapRecord[]): Promise<void>;
  /** An earlier run captured video up to this ISO instant: a hole from there is declared. */
  adoptCapturedUntil(iso: string | undefined): void;
  recordLost(lost: LostCapture, reason: LossReason): Promise<void>;
  commitAdoption(): Promise<void>;
}

/** A step between two captures shorter than this (s) is the wall clock's rounding, not a hole. */
const MIN_HOLE_S = 0.1;

/** The hole before a run's first segment, by how the camera's previous run ended. */
const PREVIOUS_RUN_HOLE: Record<LastRun['ended'], UncapturedReason> = {
  running: 'relay-killed',
  stopped: 'relay-stopped',
  failed: 'relay-failed',
};

/**
 * One camera's spool for one run: a 0700 dir of closed segments plus an append-only journal.
 * The journal on disk is the source of truth; the in-memory map is its index, rebuilt by
 * recovery on any start. Capture, delivery and recovery each see it through their own role.
 */
export class Spool implements CaptureSpool, DeliverySpool, RecoverySpool {
  readonly #root: string;
  readonly #dir: string;
  readonly #cameraId: string;
  readonly #runId: string;
  readonly #maxBytes: number;
  readonly #sharedBound: SharedSpoolBound | undefined;
  #leaveSharedBound: (() => void) | undefined;
  readonly #emit: Emit;
  readonly #segments = new Map<number, SegmentRecord>();
  readonly #inFlight = new Set<number>();
  readonly #journal: JournalWriter;
  #gaps: GapRecord[] = [];
  #bytes = 0;
  #rejectedBytes = 0;
  #nextSequence: number;
  #ffmpegPid: number | undefined;
  #journalFailing = false;
  #freeing = false;
  #closed: Promise<{ removed: boolean; pending: number }> | undefined;
  /** ISO end of the last video captured for this camera, in any run. */
  #capturedUntil: string | undefined;
  /** Why capture stopped last; declared as a hole before the next closed segment. */
  #holeReason: UncapturedReason | undefined;

  private constructor(options: SpoolOptions, dir: string, nextSequence: number) {
    this.#root = options.root;
    this.#dir = dir;
    this.#cameraId = options.cameraId;
    this.#maxBytes = options.maxBytes;
    this.#sharedBound = options.sharedBound;
    this.#leaveSharedBound = options.sharedBound?.join(this);
    this.#emit = options.emit;
    this.#runId = randomBytes(6).toString('hex');
    this.#nextSequence = nextSequence;
    this.#journal = new JournalWriter(dir, () => this.#snapshot());
  }

  /**
   * Create this run's dir (0700, named after the camera so it is recognised even without a
   * journal) and its first journal. Call it holding the camera's lock.
   */
  static async create(options: SpoolOptions): Promise<Spool> {
    let dir: string;
    try {
      dir = tmp.dirSync({
        tmpdir: options.root,
        prefix: spoolDirPrefix(options.cameraId),
        mode: 0o700,
        keep: true,
      }).name;
    } catch (error) {
      throw new SpoolError(`cannot create a spool dir in ${options.root}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const state = await readCameraState(options.root, options.cameraId);
    const spool = new Spool(options, dir, state.nextSequence);
    spool.#gaps.push(...state.gaps);
    spool.#capturedUntil = state.lastRun?.capturedUntil;
    spool.#holeReason = state.lastRun && PREVIOUS_RUN_HOLE[state.lastRun.ended];
    spool.#rejectedBytes = (await rejectedUsage(options.root, options.cameraId)).bytes;
    await spool.#write(() => spool.#journal.rewrite());
    // The carried gaps are in this run's journal now: the state file need not hold them twice.
    // It says this run is running, so a kill is told from a stop by the next start.
    await spool.#writeCameraState('running');
    return spool;
  }

  get dir(): string {
    return this.#dir;
  }
  get root(): string {
    return this.#root;
  }
  get runId(): string {
    return this.#runId;
  }
  get cameraId(): string {
    return this.#cameraId;
  }
  /** First sequence a (re)started ffmpeg may use: past every name this camera ever used. */
  get nextSequence(): number {
    return this.#nextSequence;
  }
  get pendingBytes(): number {
    return this.#bytes;
  }
  get pendingCount(): number {
    return this.#segments.size;
  }
  /** Bytes counted against the bound: pending segments and the rejected/ folder. */
  get usedBytes(): number {
    return this.#used();
  }
  get maxBytes(): number {
    return this.#maxBytes;
  }
  /** Wall-clock start (ms) of the oldest undelivered segment: the index keeps arrival order. */
  get oldestPendingStartMs(): number | undefined {
    const first = this.#segments.values().next();
    return first.done ? undefined : Date.parse(first.value.start);
  }
  /** The ffmpeg output pattern inside this dir. */
  get outputPattern(): string {
    return join(this.#dir, SEGMENT_PATTERN);
  }

  pending(): SegmentRecord[] {
    return [...this.#segments.values()];
  }
  has(sequence: number): boolean {
    return this.#segments.has(sequence);
  }
  pathOf(record: SegmentRecord): string {
    return join(this.#dir, record.name);
  }
  gaps(): readonly GapRecord[] {
    return this.#gaps;
  }

  /** Record ffmpeg's pid so a later start can kill it if this relay dies without it. */
  async setFfmpegPid(pid: number | undefined): Promise<void> {
    this.#ffmpegPid = pid;
    await this.#record({ op: 'owner', owner: currentOwner(pid) });
  }

  expectHole(reason: UncapturedReason): void {
    this.#holeReason ??= reason;
  }

  adoptCapturedUntil(iso: string | undefined): void {
    this.#capturedUntil = laterIso(this.#capturedUntil, iso);
  }

  /** Raise the next sequence past names found elsewhere (orphans of earlier runs). */
  reserveSequencesBelow(next: number): void {
    this.#nextSequence = Math.max(this.#nextSequence, next);
  }

  /**
   * A segment ffmpeg closed: fsync it (it only counts once durable), index it, journal it, then
   * enforce the size bound by evicting the oldest pending segments.
   */
  async addClosed(segment: ClosedSegment): Promise<SegmentRecord | undefined> {
    const sequence = segmentSequence(segment.name);
    if (sequence === undefined) {
      this.#emit({ type: 'log', level: 'warn', message: `ignoring unexpected segment name ${segment.name}` });
      return undefined;
    }
    const path = join(this.#dir, segment.name);
    let bytes: number;
    try {
      await fsyncPath(path);
      bytes = (await stat(path)).size;
    } catch (error) {
      // Listed by ffmpeg, yet not there: its video is lost, and it is said so.
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `segment ${segment.name} vanished: ${(error as Error).message}`,
      });
      await this.recordLost(
        { sequence, start: segment.start, durationS: segment.durationS, bytes: 0 },
        'write-failed',
      );
      return undefined;
    }
    const record: SegmentRecord = {
      name: segment.name,
      sequence,
      start: segment.start.toISOString(),
      durationS: round3(segment.durationS),
      bytes,
      idempotencyKey: `${this.#cameraId}:${this.#runId}:${sequence}`,
      ...(segment.clockJumpS === undefined ? {} : { clockJumpS: segment.clockJumpS }),
    };
    if (bytes === 0 && !segment.emptyIsLoss) {
      await unlink(path).catch(() => {});
      this.#emit({ type: 'segment', phase: 'discarded', sequence, bytes, reason: 'empty' });
      return undefined;
    }
    await this.#declareHoleBefore(record);
    this.#capturedUntil = laterIso(this.#capturedUntil, segmentEnd(record));
    this.#index(record);
    this.#emit({
      type: 'segment',
      phase: 'closed',
      sequence,
      bytes,
      durationS: record.durationS,
      ...(record.clockJumpS === undefined ? {} : { clockJumpS: record.clockJumpS }),
    });
    if (bytes === 0) {
      // ffmpeg listed a segment it could not write (a full disk): its video is lost, loudly.
      await this.drop(sequence, 'write-failed');
      return undefined;
    }
    if (segment.final && this.#used() > this.#maxBytes) {
      // At a stop, a short last segment is worth less than the complete one it would evict.
      await this.drop(sequence, 'evicted');
      return undefined;
    }
    await this.#record({ op: 'add', segment: record });
    await this.#enforceBound(sequence);
    return record;
  }

  /**
   * Take over a segment of an earlier run, journaled first, then moved into this dir, keeping
   * its start and key. A sequence this spool already holds (two dead runs that numbered from the
   * same point) is renumbered rather than overwritten.
   */
  async adopt(record: SegmentRecord, fromPath: string): Promise<SegmentRecord> {
    let adopted = record;
    if (this.#segments.has(record.sequence) || (await exists(join(this.#dir, record.name)))) {
      const sequence = this.#nextSequence;
      adopted = { ...record, sequence, name: segmentName(sequence) };
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `two earlier runs both used sequence ${record.sequence}: adopting ${fromPath} as ${sequence}`,
      });
    }
    this.#index(adopted);
    this.#capturedUntil = laterIso(this.#capturedUntil, segmentEnd(adopted));
    await this.#record({ op: 'add', segment: adopted });
    await rename(fromPath, join(this.#dir, adopted.name));
    this.#emit({ type: 'segment', phase: 'adopted', sequence: adopted.sequence, bytes: adopted.bytes });
    return adopted;
  }

  /** Carry over gaps an earlier run had not yet announced. */
  async adoptGaps(gaps: readonly GapRecord[]): Promise<void> {
    if (gaps.length === 0) return;
    for (const gap of gaps) this.#addGap(gap);
    await this.#record({ op: 'gaps', gaps: this.#gaps });
  }

  /** Persist after a batch of adoptions, and remember the sequence for the next run. */
  async commitAdoption(): Promise<void> {
    await fsyncDir(this.#dir);
    await this.#write(() => this.#journal.rewrite());
    await this.#writeCameraState();
  }

  /** Single flight: false when the segment is gone or already being uploaded. */
  beginUpload(sequence: number): boolean {
    if (!this.#segments.has(sequence) || this.#inFlight.has(sequence)) return false;
    this.#inFlight.add(sequence);
    return true;
  }

  endUpload(sequence: number): void {
    this.#inFlight.delete(sequence);
  }

  /** The ingest acknowledged it: forget it, drop the gaps it announced, delete the file. */
  async delivered(sequence: number, announced: readonly GapRecord[]): Promise<void> {
    const record = this.#unindex(sequence);
    const entries: JournalEntry[] = [{ op: 'del', sequence }];
    if (announced.length > 0) {
      this.#gaps = this.#gaps.filter((g) => !announced.includes(g));
      entries.push({ op: 'gaps', gaps: this.#gaps });
    }
    await this.#record(...entries);
    if (record) await unlink(join(this.#dir, record.name)).catch(() => {});
  }

  /** The ingest refused it for good (4xx): keep it in rejected/, record and announce the loss. */
  async reject(sequence: number, status: number, body: string): Promise<void> {
    const record = this.#unindex(sequence);
    if (!record) return;
    try {
      const usage = await moveToRejected(
        this.#root,
        this.#cameraId,
        join(this.#dir, record.name),
        record.name,
        { status, body, sequence },
        this.#maxBytes / 4,
      );
      this.#rejectedBytes = usage.bytes;
    } catch (error) {
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `could not keep rejected ${record.name}: ${String(error)}`,
      });
      await unlink(join(this.#dir, record.name)).catch(() => {});
    }
    await this.#lose(gapOf(record, 'rejected'), { op: 'del', sequence });
    this.#emit({
      type: 'segment',
      phase: 'rejected',
      sequence,
      bytes: record.bytes,
      status,
      durationS: record.durationS,
    });
    await this.#enforceBound();
  }

  /**
   * Drop the oldest pending segment that is not being uploaded, loudly. Returns false when
   * nothing could be evicted.
   */
  async evictOldest(reason: LossReason, keep?: number): Promise<boolean> {
    for (const record of this.#segments.values()) {
      if (this.#inFlight.has(record.sequence) || record.sequence === keep) continue;
      await this.drop(record.sequence, reason);
      return true;
    }
    return false;
  }

  /**
   * The disk is full (ENOSPC): evict the oldest segments until there is room for a couple more
   * segments and the journal.
   */
  async freeSpace(reason: LossReason): Promise<void> {
    if (this.#freeing) return;
    this.#freeing = true;
    try {
      const average = this.#segments.size ? this.#bytes / this.#segments.size : 0;
      const target = Math.max(2 * average, 64 * 1024);
      let freed = 0;
      for (let evicted = 0; evicted < 2 || freed < target; evicted++) {
        const before = this.#bytes;
        if (!(await this.evictOldest(reason))) break;
        freed += before - this.#bytes;
      }
    } finally {
      this.#freeing = false;
    }
  }

  /** Remove one pending segment undelivered: the loss is logged, ledgered and announced. */
  async drop(sequence: number, reason: LossReason): Promise<void> {
    const record = this.#unindex(sequence);
    if (!record) return;
    await unlink(join(this.#dir, record.name)).catch(() => {});
    await this.#lose(gapOf(record, reason), { op: 'del', sequence });
    this.#emit({
      type: 'segment',
      phase: 'evicted',
      sequence,
      bytes: record.bytes,
      reason,
      durationS: record.durationS,
    });
    this.#emit({
      type: 'log',
      level: 'warn',
      message: `dropped segment ${sequence} (${reason}, ${record.bytes} bytes, started ${record.start})`,
    });
  }

  /**
   * Capture that never became a segment (a partial one with no decodable video): ledgered and
   * announced like a dropped segment, so the cloud can tell lost video from video never shot.
   */
  async recordLost(lost: LostCapture, reason: LossReason): Promise<void> {
    this.#nextSequence = Math.max(this.#nextSequence, lost.sequence + 1);
    const gap = gapOf(
      {
        sequence: lost.sequence,
        start: lost.start.toISOString(),
        durationS: lost.durationS,
        bytes: lost.bytes,
      },
      reason,
    );
    this.#capturedUntil = laterIso(this.#capturedUntil, gap.end);
    await this.#lose(gap, { op: 'next', nextSequence: this.#nextSequence });
    this.#emit({
      type: 'segment',
      phase: 'evicted',
      sequence: lost.sequence,
      bytes: lost.bytes,
      reason,
      durationS: round3(lost.durationS),
    });
    this.#emit({
      type: 'log',
      level: 'warn',
      message: `lost ${round3(lost.durationS)} s of capture in segment ${lost.sequence} (${reason}, started ${gap.start})`,
    });
  }

  /**
   * End of run: an empty spool is removed; otherwise the journal stays for the next start.
   * The camera's next sequence, and how and where its capture ended, are remembered either way.
   * The first call decides.
   */
  async close(ended: 'stopped' | 'failed' = 'failed'): Promise<{ removed: boolean; pending: number }> {
    this.#closed ??= this.#close(ended);
    return this.#closed;
  }

  async #close(ended: 'stopped' | 'failed'): Promise<{ removed: boolean; pending: number }> {
    this.#leaveSharedBound?.();
    this.#leaveSharedBound = undefined;
    await this.#journal.close();
    await this.#writeCameraState(ended);
    if (this.#segments.size === 0 && this.#gaps.length === 0) {
      await rm(this.#dir, { recursive: true, force: true });
      return { removed: true, pending: 0 };
    }
    return { removed: false, pending: this.#segments.size };
  }

  #index(record: SegmentRecord): void {
    if (!this.#segments.has(record.sequence)) this.#bytes += record.bytes;
    this.#segments.set(record.sequence, record);
    this.#nextSequence = Math.max(this.#nextSequence, record.sequence + 1);
  }

  #unindex(sequence: number): SegmentRecord | undefined {
    const record = this.#segments.get(sequence);
    if (record) {
      this.#segments.delete(sequence);
      this.#bytes -= record.bytes;
    }
    return record;
  }

  /** Bytes counted against --max-spool-mb: pending segments and the rejected/ folder. */
  #used(): number {
    return this.#bytes + this.#rejectedBytes;
  }

  async #enforceBound(newest?: number): Promise<void> {
    while (this.#used() > this.#maxBytes) {
      if (!(await this.evictOldest('evicted', newest))) break;
    }
    await this.#sharedBound?.enforce(this, newest);
  }

  /** Ledger line (fsync'd), gap for the next delivered segment, and the journal, in that order. */
  async #lose(gap: GapRecord, ...entries: JournalEntry[]): Promise<void> {
    this.#addGap(gap);
    await recordLoss(this.#root, this.#cameraId, gap).catch((error: unknown) => {
      this.#emit({
        type: 'error',
        code: 'ERR_LEDGER',
        message: `could not write the loss ledger (the loss is still announced to the cloud): ${String(error)}`,
      });
    });
    await this.#record(...entries, { op: 'gaps', gaps: this.#gaps });
  }

  /**
   * Time with no video between the last capture and `next` (the relay was down, or ffmpeg was):
   * ledgered and announced like a loss, with its own reason, so the cloud's timeline is whole.
   */
  async #declareHoleBefore(next: SegmentRecord): Promise<void> {
    const reason = this.#holeReason;
    const from = this.#capturedUntil;
    this.#holeReason = undefined;
    if (reason === undefined || from === undefined) return;
    const seconds = round3((Date.parse(next.start) - Date.parse(from)) / 1000);
    if (!(seconds >= MIN_HOLE_S)) return;
    const hole: GapRecord = {
      seqFrom: next.sequence,
      seqTo: next.sequence - 1,
      start: from,
      end: next.start,
      reason,
      bytes: 0,
    };
    await this.#lose(hole);
    this.#emit({ type: 'segment', phase: 'uncaptured', sequence: next.sequence, reason, durationS: seconds });
    this.#emit({
      type: 'log',
      level: 'warn',
      message: `no video for ${seconds} s before segment ${next.sequence} (${reason}, from ${from}): declared to the cloud`,
    });
  }

  /** Merge with the previous gap when contiguous and for the same reason, so headers stay short. */
  #addGap(gap: GapRecord): void {
    const last = this.#gaps.at(-1);
    if (last && last.reason === gap.reason && last.seqTo + 1 === gap.seqFrom) {
      this.#gaps[this.#gaps.length - 1] = {
        ...last,
        seqTo: gap.seqTo,
        end: gap.end,
        bytes: last.bytes + gap.bytes,
      };
    } else {
      this.#gaps.push(gap);
    }
  }

  #snapshot(): JournalData {
    return {
      version: 2,
      cameraId: this.#cameraId,
      runId: this.#runId,
      owner: currentOwner(this.#ffmpegPid),
      nextSequence: this.#nextSequence,
      segments: [...this.#segments.values()],
      gaps: this.#gaps,
      capturedUntil: this.#capturedUntil,
    };
  }

  #record(...entries: JournalEntry[]): Promise<void> {
    return this.#write(() => this.#journal.append(...entries));
  }

  /**
   * A journal write that fails is said once (an error event, not a quiet log line) and retried
   * as a full rewrite with the next change; on a full disk the oldest segments make room first.
   * The segment files stay either way, and the dir's name still says whose they are.
   */
  async #write(write: () => Promise<void>): Promise<void> {
    try {
      await write();
      if (this.#journalFailing) {
        this.#journalFailing = false;
        this.#emit({ type: 'log', level: 'info', message: 'the spool journal is written again' });
      }
      return;
    } catch (error) {
      if (!this.#journalFailing) {
        this.#journalFailing = true;
        this.#emit({
          type: 'error',
          code: 'ERR_JOURNAL',
          message: `could not write the spool journal in ${this.#dir}: ${String(error)}`,
        });
      }
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC' || this.#freeing) return;
    }
    await this.freeSpace('disk-full');
    await this.#journal.rewrite().then(
      () => {
        this.#journalFailing = false;
      },
      () => {},
    );
  }

  async #writeCameraState(ended: LastRun['ended'] = 'running'): Promise<void> {
    await writeCameraState(this.#root, this.#cameraId, {
      nextSequence: this.#nextSequence,
      gaps: [],
      lastRun: { runId: this.#runId, ended, capturedUntil: this.#capturedUntil },
    }).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
