import { randomBytes } from 'node:crypto';
import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LossReason, UncapturedReason } from '../types.js';
import { type CameraState, readCameraState } from './camera-state.js';
import { CaptureTimeline } from './capture-timeline.js';
import { DeliveryQueue } from './delivery-queue.js';
import { DiskHealing } from './disk-healing.js';
import { fsyncDir } from './fsutil.js';
import { GapBook } from './gap-book.js';
import type { GapRecord, JournalEntry, SegmentRecord } from './journal.js';
import { SEGMENT_PATTERN } from './naming.js';
import { currentOwner } from './owner.js';
import { SpoolQuota } from './quota.js';
import { rejectedUsage } from './rejected.js';
import { createRunDir } from './run-dir.js';
import { RunRecord } from './run-record.js';
import { SegmentIndex } from './segment-index.js';
import { addClosed, adoptSegment } from './segment-intake.js';
import { SpoolLosses } from './spool-losses.js';
import { pathIn, type SpoolParts, takeOut } from './spool-parts.js';
import type {
  CaptureSpool,
  ClosedSegment,
  DeliverySpool,
  LostCapture,
  RecoverySpool,
  SpoolOptions,
  WaitingQueue,
} from './spool-roles.js';

// The roles are part of the spool's face: importers need not know where they are written.
export type * from './spool-roles.js';

/**
 * One camera's spool for one run: a 0700 dir of closed segments plus an append-only journal.
 * The journal on disk is the source of truth; the index is its in-memory copy, rebuilt by
 * adoption on any start. Capture, delivery and recovery each see it through their own role; the
 * jobs themselves live in their own modules (intake, losses, index, delivery queue, quota, gaps,
 * disk healing): this facade builds them and hands each call to the one whose job it is.
 */
export class Spool implements CaptureSpool, DeliverySpool, RecoverySpool {
  readonly #p: SpoolParts;
  readonly #losses: SpoolLosses;
  readonly #run: RunRecord;
  #closed: Promise<{ removed: boolean; pending: number }> | undefined;

  private constructor(options: SpoolOptions, dir: string, state: CameraState) {
    const { root, cameraId, emit } = options;
    const index = new SegmentIndex(state.nextSequence);
    const gaps = new GapBook(root, cameraId, state.gaps, emit);
    const timeline = new CaptureTimeline(state.lastRun);
    const runId = randomBytes(6).toString('hex');
    const run = new RunRecord({ root, dir, cameraId, runId, index, gaps, timeline });
    const disk = new DiskHealing({
      dir,
      emit,
      evictOldest: (reason, keep) => this.#losses.evictOldest(reason, keep),
      pendingCount: () => index.size,
      rewriteJournal: () => run.rewrite(),
    });
    const delivery = new DeliveryQueue(index);
    const quota = new SpoolQuota(options.maxBytes, index, options.sharedBound);
    const record = (...entries: JournalEntry[]) => disk.write(() => run.append(...entries));
    this.#p = { root, dir, cameraId, runId, emit, index, delivery, quota, gaps, timeline, disk, record };
    this.#run = run;
    this.#losses = new SpoolLosses(this.#p);
    quota.join(this.#losses);
  }

  /**
   * Create this run's dir (0700, named after the camera so it is recognised even without a
   * journal) and its first journal. Call it holding the camera's lock.
   */
  static async create(options: SpoolOptions): Promise<Spool> {
    const dir = createRunDir(options.root, options.cameraId);
    const spool = new Spool(options, dir, await readCameraState(options.root, options.cameraId));
    spool.#p.quota.rejectedBytes = (await rejectedUsage(options.root, options.cameraId)).bytes;
    await spool.#p.disk.write(() => spool.#run.rewrite());
    // The carried gaps are in this run's journal now; the state file says this run is running.
    await spool.#run.remember('running');
    return spool;
  }

  get dir(): string {
    return this.#p.dir;
  }
  get root(): string {
    return this.#p.root;
  }
  get cameraId(): string {
    return this.#p.cameraId;
  }
  /** First sequence a (re)started ffmpeg may use: past every name this camera ever used. */
  get nextSequence(): number {
    return this.#p.index.nextSequence;
  }
  get pendingBytes(): number {
    return this.#p.index.bytes;
  }
  get pendingCount(): number {
    return this.#p.index.size;
  }
  /** Bytes counted against the bound: pending segments and the rejected/ folder. */
  get usedBytes(): number {
    return this.#p.quota.usedBytes;
  }
  get maxBytes(): number {
    return this.#p.quota.maxBytes;
  }
  /** Wall-clock start (ms) of the oldest undelivered segment. */
  get oldestPendingStartMs(): number | undefined {
    return this.#losses.oldestPendingStartMs;
  }
  /** The ffmpeg output pattern inside this dir. */
  get outputPattern(): string {
    return join(this.#p.dir, SEGMENT_PATTERN);
  }
  /** The segments waiting for delivery, in the order delivery asks for them. */
  get queue(): WaitingQueue {
    return this.#p.delivery;
  }

  holds(sequence: number): boolean {
    return this.#p.index.has(sequence);
  }
  pathOf(record: SegmentRecord): string {
    return pathIn(this.#p, record);
  }
  gaps(): readonly GapRecord[] {
    return this.#p.gaps.list;
  }

  /** Record ffmpeg's pid so a later start can kill it if this relay dies without it. */
  async setFfmpegPid(pid: number | undefined): Promise<void> {
    this.#run.ffmpegPid = pid;
    await this.#p.record({ op: 'owner', owner: currentOwner(pid) });
  }

  expectHole(reason: UncapturedReason): void {
    this.#p.timeline.stopped(reason);
  }
  adoptCapturedUntil(iso: string | undefined): void {
    this.#p.timeline.captured(iso);
  }
  /** Raise the next sequence past names found elsewhere (orphans of earlier runs). */
  reserveSequencesBelow(next: number): void {
    this.#p.index.reserveBelow(next);
  }

  addClosed(segment: ClosedSegment): Promise<SegmentRecord | undefined> {
    return addClosed(this.#p, this.#losses, segment);
  }
  adopt(record: SegmentRecord, fromPath: string): Promise<SegmentRecord> {
    return adoptSegment(this.#p, record, fromPath);
  }

  /** Carry over gaps an earlier run had not yet announced. */
  async adoptGaps(gaps: readonly GapRecord[]): Promise<void> {
    if (gaps.length === 0) return;
    for (const gap of gaps) this.#p.gaps.add(gap);
    await this.#p.record({ op: 'gaps', gaps: this.#p.gaps.list });
  }

  /** Persist after a batch of adoptions, and remember the sequence for the next run. */
  async commitAdoption(): Promise<void> {
    await fsyncDir(this.#p.dir);
    await this.#p.disk.write(() => this.#run.rewrite());
    await this.#run.remember();
  }

  /** Single flight: the segment to send, or undefined when it is gone or already being uploaded. */
  beginUpload(sequence: number): SegmentRecord | undefined {
    return this.#p.delivery.claim(sequence) ? this.#p.index.get(sequence) : undefined;
  }
  endUpload(sequence: number): void {
    this.#p.delivery.release(sequence);
  }

  /** The ingest acknowledged it: forget it, drop the gaps it announced, delete the file. */
  async delivered(sequence: number, announced: readonly GapRecord[]): Promise<void> {
    const record = takeOut(this.#p, sequence);
    const entries: JournalEntry[] = [{ op: 'del', sequence }];
    if (this.#p.gaps.settle(announced)) entries.push({ op: 'gaps', gaps: this.#p.gaps.list });
    await this.#p.record(...entries);
    if (record) await unlink(this.pathOf(record)).catch(() => {});
  }

  reject(sequence: number, status: number, body: string): Promise<void> {
    return this.#losses.reject(sequence, status, body);
  }
  drop(sequence: number, reason: LossReason): Promise<void> {
    return this.#losses.drop(sequence, reason);
  }
  recordLost(lost: LostCapture, reason: LossReason): Promise<void> {
    return this.#losses.recordLost(lost, reason);
  }
  /** A stop ended capture at `at`: the tail it cut off is declared (see SpoolLosses). */
  declareStop(at: Date, readUntil?: Date): Promise<void> {
    return this.#losses.declareStop(at, readUntil);
  }
  /** A write met ENOSPC all the same: make room now. */
  freeSpace(reason: LossReason): Promise<void> {
    return this.#p.disk.freeSpace(reason);
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
    const { quota, gaps, index, dir } = this.#p;
    quota.leave();
    await gaps.flush();
    await this.#run.closeJournal();
    if (index.size === 0) {
      // Nothing left to send: holes not yet announced go to the next run in the camera's state.
      await this.#run.remember(ended, gaps.list);
      await rm(dir, { recursive: true, force: true });
      return { removed: true, pending: 0 };
    }
    await this.#run.remember(ended);
    return { removed: false, pending: index.size };
  }
}
