import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import tmp from 'tmp';
import { SpoolError } from '../errors.js';
import type { Emit } from '../telemetry/events.js';
import { fsyncDir, fsyncPath, writeFileAtomic } from './fsutil.js';
import {
  type GapRecord,
  type JournalData,
  type LossReason,
  type SegmentRecord,
  writeJournal,
} from './journal.js';
import { recordLoss } from './losses.js';
import { cameraStateFile, SEGMENT_PATTERN, SPOOL_DIR_PREFIX, segmentSequence } from './naming.js';
import { currentOwner } from './owner.js';
import { moveToRejected } from './rejected.js';

export interface SpoolOptions {
  readonly root: string;
  readonly cameraId: string;
  readonly maxBytes: number;
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
}

/**
 * One camera's spool for one run: a 0700 dir of closed segments plus a journal. The journal on
 * disk is the source of truth; the in-memory map is its index, rebuilt by recovery on any start.
 */
export class Spool {
  readonly #root: string;
  readonly #dir: string;
  readonly #cameraId: string;
  readonly #runId: string;
  readonly #maxBytes: number;
  readonly #emit: Emit;
  readonly #segments = new Map<number, SegmentRecord>();
  readonly #inFlight = new Set<number>();
  #gaps: GapRecord[] = [];
  #bytes = 0;
  #nextSequence: number;
  #ffmpegPid: number | undefined;
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  #closed: Promise<{ removed: boolean; pending: number }> | undefined;

  private constructor(options: SpoolOptions, dir: string, nextSequence: number) {
    this.#root = options.root;
    this.#dir = dir;
    this.#cameraId = options.cameraId;
    this.#maxBytes = options.maxBytes;
    this.#emit = options.emit;
    this.#runId = randomBytes(6).toString('hex');
    this.#nextSequence = nextSequence;
  }

  /** Create this run's dir (0700, our prefix) and its first journal. */
  static async create(options: SpoolOptions): Promise<Spool> {
    let dir: string;
    try {
      dir = tmp.dirSync({ tmpdir: options.root, prefix: SPOOL_DIR_PREFIX, mode: 0o700, keep: true }).name;
    } catch (error) {
      throw new SpoolError(`cannot create a spool dir in ${options.root}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const spool = new Spool(options, dir, await readNextSequence(options.root, options.cameraId));
    await spool.#persist();
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
    await this.#persist();
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
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `segment ${segment.name} vanished: ${(error as Error).message}`,
      });
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
    this.#index(record);
    this.#emit({ type: 'segment', phase: 'closed', sequence, bytes, durationS: record.durationS });
    if (bytes === 0) {
      // ffmpeg listed a segment it could not write (a full disk): its video is lost, loudly.
      await this.drop(sequence, 'write-failed');
      return undefined;
    }
    await this.#enforceBound(sequence);
    await this.#persist();
    return record;
  }

  /** Take over a segment of an earlier run (moved into this dir, keeping its sequence and key). */
  async adopt(record: SegmentRecord, fromPath: string): Promise<void> {
    await rename(fromPath, join(this.#dir, record.name));
    this.#index(record);
    this.#emit({ type: 'segment', phase: 'adopted', sequence: record.sequence, bytes: record.bytes });
  }

  /** Carry over gaps an earlier run had not yet announced. */
  adoptGaps(gaps: readonly GapRecord[]): void {
    this.#gaps.push(...gaps);
  }

  /** Persist after a batch of adoptions, and remember the sequence for the next run. */
  async commitAdoption(): Promise<void> {
    await fsyncDir(this.#dir);
    await this.#persist();
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
    if (announced.length > 0) this.#gaps = this.#gaps.filter((g) => !announced.includes(g));
    await this.#persist();
    if (record) await unlink(join(this.#dir, record.name)).catch(() => {});
  }

  /** The ingest refused it for good (4xx): keep it in rejected/, record and announce the loss. */
  async reject(sequence: number, status: number, body: string): Promise<void> {
    const record = this.#segments.get(sequence);
    if (!record) return;
    this.#unindex(sequence);
    await moveToRejected(this.#root, this.#cameraId, join(this.#dir, record.name), record.name, {
      status,
      body,
      sequence,
    }).catch((error: unknown) => {
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `could not keep rejected ${record.name}: ${String(error)}`,
      });
      return unlink(join(this.#dir, record.name)).catch(() => {});
    });
    await this.#lose(record, 'rejected');
    this.#emit({ type: 'segment', phase: 'rejected', sequence, bytes: record.bytes, status });
    await this.#persist();
  }

  /**
   * Drop the oldest pending segment that is not being uploaded, loudly. The only way a segment
   * leaves the spool undelivered. Returns false when nothing could be evicted.
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
   * segments and a rewrite of the journal, which grows with the backlog.
   */
  async freeSpace(reason: LossReason): Promise<void> {
    const average = this.#segments.size ? this.#bytes / this.#segments.size : 0;
    const target = Math.max(2 * average, JSON.stringify(this.#snapshot()).length * 2);
    let freed = 0;
    for (let evicted = 0; evicted < 2 || freed < target; evicted++) {
      const before = this.#bytes;
      if (!(await this.evictOldest(reason))) break;
      freed += before - this.#bytes;
    }
  }

  /** Remove one pending segment undelivered: the loss is logged, ledgered and announced. */
  async drop(sequence: number, reason: LossReason): Promise<void> {
    const record = this.#unindex(sequence);
    if (!record) return;
    await unlink(join(this.#dir, record.name)).catch(() => {});
    await this.#lose(record, reason);
    this.#emit({ type: 'segment', phase: 'evicted', sequence, bytes: record.bytes, reason });
    this.#emit({
      type: 'log',
      level: 'warn',
      message: `dropped segment ${sequence} (${reason}, ${record.bytes} bytes, started ${record.start})`,
    });
    await this.#persist();
  }

  /**
   * End of run: an empty spool is removed; otherwise the journal stays for the next start.
   * The camera's next sequence is remembered either way.
   */
  async close(): Promise<{ removed: boolean; pending: number }> {
    if (this.#closed) return this.#closed;
    this.#closed = this.#close();
    return this.#closed;
  }

  async #close(): Promise<{ removed: boolean; pending: number }> {
    await this.#chain;
    await this.#writeCameraState();
    if (this.#segments.size === 0 && this.#gaps.length === 0) {
      await rm(this.#dir, { recursive: true, force: true });
      return { removed: true, pending: 0 };
    }
    await this.#persist();
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

  async #enforceBound(newest: number): Promise<void> {
    while (this.#bytes > this.#maxBytes) {
      if (!(await this.evictOldest('evicted', newest))) break;
    }
  }

  async #lose(record: SegmentRecord, reason: LossReason): Promise<void> {
    const end = new Date(Date.parse(record.start) + record.durationS * 1000).toISOString();
    const gap: GapRecord = {
      seqFrom: record.sequence,
      seqTo: record.sequence,
      start: record.start,
      end,
      reason,
      bytes: record.bytes,
    };
    this.#addGap(gap);
    await recordLoss(this.#root, this.#cameraId, gap).catch((error: unknown) => {
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `could not write the loss ledger: ${String(error)}`,
      });
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
      version: 1,
      cameraId: this.#cameraId,
      runId: this.#runId,
      owner: currentOwner(this.#ffmpegPid),
      nextSequence: this.#nextSequence,
      segments: [...this.#segments.values()],
      gaps: this.#gaps,
    };
  }

  /** Coalesced journal write: at most one queued behind the one in progress, with the latest state. */
  #persist(): Promise<void> {
    if (this.#queued) return this.#queued;
    const write = this.#chain.then(async () => {
      this.#queued = undefined;
      try {
        await writeJournal(this.#dir, this.#snapshot());
      } catch (error) {
        // A full disk can refuse the journal; the segment files stay and recovery can still read them.
        this.#emit({
          type: 'log',
          level: 'warn',
          message: `could not write the spool journal: ${String(error)}`,
        });
      }
    });
    this.#queued = write;
    this.#chain = write;
    return write;
  }

  async #writeCameraState(): Promise<void> {
    const data = {
      cameraId: this.#cameraId,
      nextSequence: this.#nextSequence,
      updatedAt: new Date().toISOString(),
    };
    await writeFileAtomic(
      join(this.#root, cameraStateFile(this.#cameraId)),
      `${JSON.stringify(data)}\n`,
    ).catch(() => {});
  }
}

async function readNextSequence(root: string, cameraId: string): Promise<number> {
  try {
    const data = JSON.parse(await readFile(join(root, cameraStateFile(cameraId)), 'utf8')) as {
      nextSequence?: unknown;
    };
    return typeof data.nextSequence === 'number' && data.nextSequence >= 0 ? data.nextSequence : 0;
  } catch {
    return 0;
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
