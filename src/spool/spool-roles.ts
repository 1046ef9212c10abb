import type { Emit } from '../telemetry/events.js';
import type { LossReason, UncapturedReason } from '../types.js';
import type { DeliveryQueue } from './delivery-queue.js';
import type { GapRecord, SegmentRecord } from './journal.js';
import type { SharedSpoolBound } from './shared-bound.js';

/** How capture, delivery and recovery each see a camera's spool (see spool.ts). */

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

/** The spool's waiting segments as delivery's scheduler asks for them (see delivery-queue.ts). */
export type WaitingQueue = Pick<
  DeliveryQueue,
  'waitingCount' | 'oldestWaiting' | 'newestWaiting' | 'handOut' | 'giveBack' | 'listen'
>;

/** What delivery (the uploader) does with the spool: take, claim and settle segments. */
export interface DeliverySpool {
  /** The only record of what waits to be sent: delivery asks it for the next segment. */
  readonly queue: WaitingQueue;
  /** Still pending (not delivered, rejected or evicted). */
  holds(sequence: number): boolean;
  gaps(): readonly GapRecord[];
  pathOf(record: SegmentRecord): string;
  /** Claim a pending segment for one request: its record, or undefined when gone or claimed. */
  beginUpload(sequence: number): SegmentRecord | undefined;
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
