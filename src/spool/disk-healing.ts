import type { Emit } from '../telemetry/events.js';
import type { LossReason } from '../types.js';
import { FreeSpaceGuard, type SpaceReader } from './free-space.js';
import type { EvictOldest } from './quota.js';

export interface DiskHealingOptions {
  readonly dir: string;
  readonly emit: Emit;
  readonly evictOldest: EvictOldest;
  readonly pendingCount: () => number;
  /** Write the whole journal afresh (after a failed append). */
  readonly rewriteJournal: () => Promise<void>;
  readonly readSpace?: SpaceReader | undefined;
}

/**
 * Keeps one spool writable: evicts (disk-full) before the filesystem fills under ffmpeg, frees
 * room when a write meets ENOSPC all the same, and heals a journal whose write failed.
 */
export class DiskHealing {
  readonly #o: DiskHealingOptions;
  readonly #room: FreeSpaceGuard;
  #journalFailing = false;
  /** One eviction pass at a time: a pass must not start another from its own writes. */
  #freeing = false;
  /** The segment ffmpeg closed last: the headroom pass never takes it (a real ENOSPC may). */
  #newest: number | undefined;

  constructor(options: DiskHealingOptions) {
    this.#o = options;
    this.#room = new FreeSpaceGuard(options.dir, options.emit, options.readSpace);
  }

  /** ffmpeg closed this segment and has begun the next: its size predicts the next one's. */
  noteClosed(sequence: number, bytes: number): void {
    this.#room.noteSegment(bytes);
    this.#newest = sequence;
  }

  /** Below the free-space headroom, evict (disk-full) before anything hits ENOSPC. */
  keepRoom(): Promise<void> {
    return this.#once(() => this.#makeRoom('disk-full', this.#newest));
  }

  /**
   * A write failed with ENOSPC all the same (something else filled the disk between two checks):
   * the oldest segment goes, then as many more as the free-space headroom needs.
   */
  freeSpace(reason: LossReason): Promise<void> {
    return this.#once(async () => {
      if (await this.#o.evictOldest(reason)) await this.#makeRoom(reason, undefined);
    });
  }

  /**
   * A journal write that fails is said once (an error event, not a quiet log line) and retried
   * as a full rewrite with the next change; on a full disk the oldest segments make room first.
   * The segment files stay either way, and the dir's name still says whose they are.
   */
  async write(write: () => Promise<void>): Promise<void> {
    try {
      await write();
      if (this.#journalFailing) {
        this.#journalFailing = false;
        this.#o.emit({ type: 'log', level: 'info', message: 'the spool journal is written again' });
      }
      return;
    } catch (error) {
      if (!this.#journalFailing) {
        this.#journalFailing = true;
        this.#o.emit({
          type: 'error',
          code: 'ERR_JOURNAL',
          message: `could not write the spool journal in ${this.#o.dir}: ${String(error)}`,
        });
      }
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC' || this.#freeing) return;
    }
    await this.freeSpace('disk-full');
    await this.#o.rewriteJournal().then(
      () => {
        this.#journalFailing = false;
      },
      () => {},
    );
  }

  async #once(pass: () => Promise<void>): Promise<void> {
    if (this.#freeing) return;
    this.#freeing = true;
    try {
      await pass();
    } finally {
      this.#freeing = false;
    }
  }

  #makeRoom(reason: LossReason, keep: number | undefined): Promise<void> {
    return this.#room.makeRoom(this.#o.pendingCount, () => this.#o.evictOldest(reason, keep));
  }
}
