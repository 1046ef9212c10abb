import { unlink } from 'node:fs/promises';
import type { LossReason } from '../types.js';
import type { GapRecord, JournalEntry, SegmentRecord } from './journal.js';
import { saidDropped, saidHole, saidLostCapture, saidStopTail } from './loss-wording.js';
import { gapOf } from './losses.js';
import { evictionCandidate } from './quota.js';
import { keepRejected } from './rejected.js';
import type { BoundedSpool } from './shared-bound.js';
import { pathIn, type SpoolParts, takeOut } from './spool-parts.js';
import type { LostCapture } from './spool-roles.js';

/**
 * Every way one camera's spool loses video, each loud: evictions within its bounds (this is the
 * spool the shared bound counts), drops, rejections, capture that never became a segment, and
 * holes in the timeline. Each is ledgered (fsync'd), journaled and announced as a gap.
 */
export class SpoolLosses implements BoundedSpool {
  readonly #p: SpoolParts;

  constructor(parts: SpoolParts) {
    this.#p = parts;
  }

  get usedBytes(): number {
    return this.#p.quota.usedBytes;
  }

  /** Wall-clock start (ms) of the oldest undelivered segment. */
  get oldestPendingStartMs(): number | undefined {
    const oldest = this.#p.index.oldest;
    return oldest === undefined ? undefined : Date.parse(oldest.start);
  }

  /** Evict until this camera fits its bound, then the process its shared one; `newest` stays. */
  enforceBounds(newest?: number): Promise<void> {
    return this.#p.quota.enforce(this, (reason, keep) => this.evictOldest(reason, keep), newest);
  }

  /** Drop the oldest pending segment that is not being uploaded, loudly; false when none could go. */
  async evictOldest(reason: LossReason, keep?: number): Promise<boolean> {
    const sequence = evictionCandidate(this.#p.index, this.#p.delivery, keep);
    if (sequence === undefined) return false;
    await this.drop(sequence, reason);
    return true;
  }

  /** Remove one pending segment undelivered: the loss is logged, ledgered and announced. */
  async drop(sequence: number, reason: LossReason): Promise<void> {
    const record = takeOut(this.#p, sequence);
    if (!record) return;
    await unlink(pathIn(this.#p, record)).catch(() => {});
    await this.lose(gapOf(record, reason), { op: 'del', sequence });
    saidDropped(this.#p.emit, record, reason);
  }

  /** The ingest refused it for good (4xx): keep it in rejected/, record and announce the loss. */
  async reject(sequence: number, status: number, body: string): Promise<void> {
    const record = takeOut(this.#p, sequence);
    if (!record) return;
    const { root, cameraId, quota, emit } = this.#p;
    const kept = { root, cameraId, path: pathIn(this.#p, record), name: record.name };
    const usage = await keepRejected(kept, { status, body, sequence }, quota.maxBytes / 4, emit);
    if (usage) quota.rejectedBytes = usage.bytes;
    await this.lose(gapOf(record, 'rejected'), { op: 'del', sequence });
    const { bytes, durationS } = record;
    emit({ type: 'segment', phase: 'rejected', sequence, bytes, status, durationS });
    await this.enforceBounds();
  }

  /**
   * Capture that never became a segment (a partial one with no decodable video): ledgered and
   * announced like a dropped segment, so the cloud can tell lost video from video never shot.
   */
  async recordLost(lost: LostCapture, reason: LossReason): Promise<void> {
    const { index, timeline } = this.#p;
    index.reserveBelow(lost.sequence + 1);
    const start = lost.start.toISOString();
    const gap = gapOf({ ...lost, start }, reason);
    timeline.captured(gap.end);
    await this.lose(gap, { op: 'next', nextSequence: index.nextSequence });
    saidLostCapture(this.#p.emit, lost, reason, gap.start);
  }

  /**
   * Time with no video between the last capture and `next` (the relay was down, or ffmpeg was):
   * ledgered and announced like a loss, with its own reason, so the cloud's timeline is whole.
   */
  async declareHoleBefore(next: SegmentRecord): Promise<void> {
    const hole = this.#p.timeline.holeBefore(next.sequence, next.start);
    if (!hole) return;
    await this.lose(hole);
    saidHole(this.#p.emit, next.sequence, hole);
  }

  /**
   * A stop ended capture at `at`: the tail since the last captured video is declared like any
   * hole (ledger now, the cloud with the next segment sent, in this run or the next). `readUntil`:
   * when ffmpeg stopped reading the camera — nothing after it was captured, wherever the last
   * segment was placed.
   */
  async declareStop(at: Date, readUntil?: Date): Promise<void> {
    const { timeline, index } = this.#p;
    const tail = timeline.tailUntil(
      index.nextSequence,
      at.toISOString(),
      'relay-stopped',
      readUntil?.toISOString(),
    );
    if (!tail) return;
    await this.lose(tail);
    saidStopTail(this.#p.emit, tail);
  }

  /** Ledger line (fsync'd), gap for the next delivered segment, and the journal, in that order. */
  async lose(gap: GapRecord, ...entries: JournalEntry[]): Promise<void> {
    const { gaps, disk } = this.#p;
    gaps.add(gap);
    // Room first: a ledger line must not be the write that meets a full disk.
    await disk.keepRoom();
    await gaps.ledger(gap);
    await this.#p.record(...entries, { op: 'gaps', gaps: gaps.list });
  }
}
