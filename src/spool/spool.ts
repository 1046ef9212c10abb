import { randomBytes } from 'node:crypto';
import { rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emit } from '../telemetry/events.js';
import type { LossReason, UncapturedReason } from '../types.js';
import { type CameraState, type LastRun, readCameraState, writeCameraState } from './camera-state.js';
import { CaptureTimeline } from './capture-timeline.js';
import { DeliveryQueue } from './delivery-queue.js';
import { DiskHealing } from './disk-healing.js';
import { fsyncDir } from './fsutil.js';
import { GapBook } from './gap-book.js';
import {
  type GapRecord,
  type JournalData,
  type JournalEntry,
  JournalWriter,
  type SegmentRecord,
  segmentEnd,
} from './journal.js';
import { saidDropped, saidHole, saidLostCapture } from './loss-wording.js';
import { gapOf } from './losses.js';
import { SEGMENT_PATTERN, segmentName, segmentSequence } from './naming.js';
import { currentOwner } from './owner.js';
import { evictionCandidate, SpoolQuota } from './quota.js';
import { keepRejected, rejectedUsage } from './rejected.js';
import { createRunDir, durableRecord } from './run-dir.js';
import { SegmentIndex } from './segment-index.js';
import type {
  CaptureSpool,
  ClosedSegment,
  DeliverySpool,
  LostCapture,
  RecoverySpool,
  SpoolOptions,
  WaitingQueue,
} from './spool-roles.js';

export type {
  CaptureSpool,
  ClosedSegment,
  DeliverySpool,
  LostCapture,
  RecoverySpool,
  SpoolOptions,
  WaitingQueue,
};

/**
 * One camera's spool for one run: a 0700 dir of closed segments plus an append-only journal.
 * The journal on disk is the source of truth; the index is its in-memory copy, rebuilt by
 * adoption on any start. Capture, delivery and recovery each see it through their own role; the
 * jobs themselves live in their own modules (index, delivery queue, quota, gaps, disk healing).
 */
export class Spool implements CaptureSpool, DeliverySpool, RecoverySpool {
  readonly #root: string;
  readonly #dir: string;
  readonly #cameraId: string;
  readonly #runId = randomBytes(6).toString('hex');
  readonly #emit: Emit;
  readonly #index: SegmentIndex;
  readonly #delivery: DeliveryQueue;
  readonly #quota: SpoolQuota;
  readonly #gaps: GapBook;
  readonly #timeline: CaptureTimeline;
  readonly #journal: JournalWriter;
  readonly #disk: DiskHealing;
  #ffmpegPid: number | undefined;
  #closed: Promise<{ removed: boolean; pending: number }> | undefined;

  private constructor(options: SpoolOptions, dir: string, state: CameraState) {
    this.#root = options.root;
    this.#dir = dir;
    this.#cameraId = options.cameraId;
    this.#emit = options.emit;
    this.#index = new SegmentIndex(state.nextSequence);
    this.#delivery = new DeliveryQueue(this.#index);
    this.#quota = new SpoolQuota(options.maxBytes, this.#index, options.sharedBound);
    this.#quota.join(this);
    this.#gaps = new GapBook(options.root, options.cameraId, state.gaps, options.emit);
    this.#timeline = new CaptureTimeline(state.lastRun);
    this.#journal = new JournalWriter(dir, () => this.#snapshot());
    this.#disk = new DiskHealing({
      dir,
      emit: options.emit,
      evictOldest: (reason, keep) => this.evictOldest(reason, keep),
      pendingCount: () => this.#index.size,
      rewriteJournal: () => this.#journal.rewrite(),
    });
  }

  /**
   * Create this run's dir (0700, named after the camera so it is recognised even without a
   * journal) and its first journal. Call it holding the camera's lock.
   */
  static async create(options: SpoolOptions): Promise<Spool> {
    const dir = createRunDir(options.root, options.cameraId);
    const spool = new Spool(options, dir, await readCameraState(options.root, options.cameraId));
    spool.#quota.rejectedBytes = (await rejectedUsage(options.root, options.cameraId)).bytes;
    await spool.#disk.write(() => spool.#journal.rewrite());
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
  get cameraId(): string {
    return this.#cameraId;
  }
  /** First sequence a (re)started ffmpeg may use: past every name this camera ever used. */
  get nextSequence(): number {
    return this.#index.nextSequence;
  }
  get pendingBytes(): number {
    return this.#index.bytes;
  }
  get pendingCount(): number {
    return this.#index.size;
  }
  /** Bytes counted against the bound: pending segments and the rejected/ folder. */
  get usedBytes(): number {
    return this.#quota.usedBytes;
  }
  get maxBytes(): number {
    return this.#quota.maxBytes;
  }
  /** Wall-clock start (ms) of the oldest undelivered segment. */
  get oldestPendingStartMs(): number | undefined {
    const oldest = this.#index.oldest;
    return oldest === undefined ? undefined : Date.parse(oldest.start);
  }
  /** The ffmpeg output pattern inside this dir. */
  get outputPattern(): string {
    return join(this.#dir, SEGMENT_PATTERN);
  }

  /** The segments waiting for delivery, in the order delivery asks for them. */
  get queue(): WaitingQueue {
    return this.#delivery;
  }

  holds(sequence: number): boolean {
    return this.#index.has(sequence);
  }

  pathOf(record: SegmentRecord): string {
    return join(this.#dir, record.name);
  }
  gaps(): readonly GapRecord[] {
    return this.#gaps.list;
  }

  /** Record ffmpeg's pid so a later start can kill it if this relay dies without it. */
  async setFfmpegPid(pid: number | undefined): Promise<void> {
    this.#ffmpegPid = pid;
    await this.#record({ op: 'owner', owner: currentOwner(pid) });
  }

  expectHole(reason: UncapturedReason): void {
    this.#timeline.stopped(reason);
  }

  adoptCapturedUntil(iso: string | undefined): void {
    this.#timeline.captured(iso);
  }

  /** Raise the next sequence past names found elsewhere (orphans of earlier runs). */
  reserveSequencesBelow(next: number): void {
    this.#index.reserveBelow(next);
  }

  /**
   * A segment ffmpeg closed: fsync it (it only counts once durable), index it, journal it, then
   * enforce the size bound by evicting the oldest pending segments.
   */
  async addClosed(segment: ClosedSegment): Promise<SegmentRecord | undefined> {
    const record = await this.#durableRecord(segment);
    if (!record) return undefined;
    const { sequence, bytes } = record;
    if (bytes === 0 && !segment.emptyIsLoss) {
      await unlink(this.pathOf(record)).catch(() => {});
      this.#emit({ type: 'segment', phase: 'discarded', sequence, bytes, reason: 'empty' });
      return undefined;
    }
    await this.#declareHoleBefore(record);
    this.#timeline.captured(segmentEnd(record));
    // Offered to delivery once journaled and within the bound, not before.
    this.#delivery.hold(sequence);
    this.#index.add(record);
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
    if (segment.final && this.#quota.exceeded) {
      // At a stop, a short last segment is worth less than the complete one it would evict.
      await this.drop(sequence, 'evicted');
      return undefined;
    }
    await this.#record({ op: 'add', segment: record });
    await this.#quota.enforce(this, (reason, keep) => this.evictOldest(reason, keep), sequence);
    // ffmpeg has just begun the next segment: make sure the disk can take it.
    this.#disk.noteClosed(sequence, bytes);
    await this.#disk.keepRoom();
    this.#delivery.offer(sequence, true);
    return record;
  }

  /**
   * Take over a segment of an earlier run, journaled first, then moved into this dir, keeping
   * its start and key. A sequence this spool already holds (two dead runs that numbered from the
   * same point) is renumbered rather than overwritten.
   */
  async adopt(record: SegmentRecord, fromPath: string): Promise<SegmentRecord> {
    let adopted = record;
    if (this.#index.has(record.sequence) || (await exists(this.pathOf(record)))) {
      const sequence = this.#index.nextSequence;
      adopted = { ...record, sequence, name: segmentName(sequence) };
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `two earlier runs both used sequence ${record.sequence}: adopting ${fromPath} as ${sequence}`,
      });
    }
    this.#delivery.hold(adopted.sequence);
    this.#index.add(adopted);
    this.#timeline.captured(segmentEnd(adopted));
    await this.#record({ op: 'add', segment: adopted });
    await rename(fromPath, this.pathOf(adopted));
    this.#delivery.offer(adopted.sequence, false);
    this.#emit({ type: 'segment', phase: 'adopted', sequence: adopted.sequence, bytes: adopted.bytes });
    return adopted;
  }

  /** Carry over gaps an earlier run had not yet announced. */
  async adoptGaps(gaps: readonly GapRecord[]): Promise<void> {
    if (gaps.length === 0) return;
    for (const gap of gaps) this.#gaps.add(gap);
    await this.#record({ op: 'gaps', gaps: this.#gaps.list });
  }

  /** Persist after a batch of adoptions, and remember the sequence for the next run. */
  async commitAdoption(): Promise<void> {
    await fsyncDir(this.#dir);
    await this.#disk.write(() => this.#journal.rewrite());
    await this.#writeCameraState();
  }

  /** Single flight: the segment to send, or undefined when it is gone or already being uploaded. */
  beginUpload(sequence: number): SegmentRecord | undefined {
    return this.#delivery.claim(sequence) ? this.#index.get(sequence) : undefined;
  }

  endUpload(sequence: number): void {
    this.#delivery.release(sequence);
  }

  /** The ingest acknowledged it: forget it, drop the gaps it announced, delete the file. */
  async delivered(sequence: number, announced: readonly GapRecord[]): Promise<void> {
    const record = this.#remove(sequence);
    const entries: JournalEntry[] = [{ op: 'del', sequence }];
    if (this.#gaps.settle(announced)) entries.push({ op: 'gaps', gaps: this.#gaps.list });
    await this.#record(...entries);
    if (record) await unlink(this.pathOf(record)).catch(() => {});
  }

  /** The ingest refused it for good (4xx): keep it in rejected/, record and announce the loss. */
  async reject(sequence: number, status: number, body: string): Promise<void> {
    const record = this.#remove(sequence);
    if (!record) return;
    const kept = { root: this.#root, cameraId: this.#cameraId, path: this.pathOf(record), name: record.name };
    const usage = await keepRejected(kept, { status, body, sequence }, this.#quota.maxBytes / 4, this.#emit);
    if (usage) this.#quota.rejectedBytes = usage.bytes;
    await this.#lose(gapOf(record, 'rejected'), { op: 'del', sequence });
    const { bytes, durationS } = record;
    this.#emit({ type: 'segment', phase: 'rejected', sequence, bytes, status, durationS });
    await this.#quota.enforce(this, (reason, keep) => this.evictOldest(reason, keep));
  }

  /** Drop the oldest pending segment that is not being uploaded, loudly; false when none could go. */
  async evictOldest(reason: LossReason, keep?: number): Promise<boolean> {
    const sequence = evictionCandidate(this.#index, this.#delivery, keep);
    if (sequence === undefined) return false;
    await this.drop(sequence, reason);
    return true;
  }

  /** A write met ENOSPC all the same: make room now. */
  freeSpace(reason: LossReason): Promise<void> {
    return this.#disk.freeSpace(reason);
  }

  /** Remove one pending segment undelivered: the loss is logged, ledgered and announced. */
  async drop(sequence: number, reason: LossReason): Promise<void> {
    const record = this.#remove(sequence);
    if (!record) return;
    await unlink(this.pathOf(record)).catch(() => {});
    await this.#lose(gapOf(record, reason), { op: 'del', sequence });
    saidDropped(this.#emit, record, reason);
  }

  /**
   * Capture that never became a segment (a partial one with no decodable video): ledgered and
   * announced like a dropped segment, so the cloud can tell lost video from video never shot.
   */
  async recordLost(lost: LostCapture, reason: LossReason): Promise<void> {
    this.#index.reserveBelow(lost.sequence + 1);
    const start = lost.start.toISOString();
    const gap = gapOf({ ...lost, start }, reason);
    this.#timeline.captured(gap.end);
    await this.#lose(gap, { op: 'next', nextSequence: this.#index.nextSequence });
    saidLostCapture(this.#emit, lost, reason, gap.start);
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
    this.#quota.leave();
    await this.#gaps.flush();
    await this.#journal.close();
    await this.#writeCameraState(ended);
    if (this.#index.size === 0 && this.#gaps.size === 0) {
      await rm(this.#dir, { recursive: true, force: true });
      return { removed: true, pending: 0 };
    }
    return { removed: false, pending: this.#index.size };
  }

  /** Out of the index, and so out of delivery's reach. */
  #remove(sequence: number): SegmentRecord | undefined {
    const record = this.#index.remove(sequence);
    if (record) this.#delivery.removed(sequence);
    return record;
  }

  /** The closed segment's record; undefined (said, and a lost one recorded) when there is none. */
  async #durableRecord(segment: ClosedSegment): Promise<SegmentRecord | undefined> {
    const sequence = segmentSequence(segment.name);
    if (sequence === undefined) {
      this.#emit({ type: 'log', level: 'warn', message: `ignoring unexpected segment name ${segment.name}` });
      return undefined;
    }
    try {
      return await durableRecord(this.#dir, segment, sequence, {
        cameraId: this.#cameraId,
        runId: this.#runId,
      });
    } catch (error) {
      // Listed by ffmpeg, yet not there: its video is lost, and it is said so.
      const message = `segment ${segment.name} vanished: ${(error as Error).message}`;
      this.#emit({ type: 'log', level: 'warn', message });
      const { start, durationS } = segment;
      await this.recordLost({ sequence, start, durationS, bytes: 0 }, 'write-failed');
      return undefined;
    }
  }

  /** Ledger line (fsync'd), gap for the next delivered segment, and the journal, in that order. */
  async #lose(gap: GapRecord, ...entries: JournalEntry[]): Promise<void> {
    this.#gaps.add(gap);
    // Room first: a ledger line must not be the write that meets a full disk.
    await this.#disk.keepRoom();
    await this.#gaps.ledger(gap);
    await this.#record(...entries, { op: 'gaps', gaps: this.#gaps.list });
  }

  /**
   * Time with no video between the last capture and `next` (the relay was down, or ffmpeg was):
   * ledgered and announced like a loss, with its own reason, so the cloud's timeline is whole.
   */
  async #declareHoleBefore(next: SegmentRecord): Promise<void> {
    const hole = this.#timeline.holeBefore(next.sequence, next.start);
    if (!hole) return;
    await this.#lose(hole);
    saidHole(this.#emit, next.sequence, hole);
  }

  #snapshot(): JournalData {
    return {
      version: 2,
      cameraId: this.#cameraId,
      runId: this.#runId,
      owner: currentOwner(this.#ffmpegPid),
      nextSequence: this.#index.nextSequence,
      segments: [...this.#index.records()],
      gaps: this.#gaps.list,
      capturedUntil: this.#timeline.capturedUntil,
    };
  }

  #record(...entries: JournalEntry[]): Promise<void> {
    return this.#disk.write(() => this.#journal.append(...entries));
  }

  async #writeCameraState(ended: LastRun['ended'] = 'running'): Promise<void> {
    await writeCameraState(this.#root, this.#cameraId, {
      nextSequence: this.#index.nextSequence,
      gaps: [],
      lastRun: { runId: this.#runId, ended, capturedUntil: this.#timeline.capturedUntil },
    }).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
