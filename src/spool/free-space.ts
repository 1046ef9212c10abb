import { statfs } from 'node:fs/promises';
import type { Emit } from '../telemetry/events.js';

/** What the spool's filesystem has left for us: statfs' blocks available to a non-root user. */
export interface FilesystemSpace {
  readonly freeBytes: number;
  readonly blockSize: number;
}

/** Reads the free space of the filesystem holding `path`; undefined when it cannot tell. */
export type SpaceReader = (path: string) => Promise<FilesystemSpace | undefined>;

export const readSpace: SpaceReader = async (path) => {
  try {
    const s = await statfs(path);
    return { freeBytes: s.bavail * s.bsize, blockSize: s.bsize };
  } catch {
    return undefined;
  }
};

/** Segments whose sizes predict the next one: a few, so a change of scene is followed soon. */
const RECENT_SEGMENTS = 8;
/** Journal appends, loss-ledger lines and the camera's state file between two checks. */
export const METADATA_MARGIN_BYTES = 32 * 1024;
/** A journal rewrite writes a whole snapshot beside the old file: about this much per segment. */
const JOURNAL_BYTES_PER_SEGMENT = 320;

/**
 * Keeps the spool's filesystem from filling up under ffmpeg. A full disk makes ffmpeg fail its
 * write and exit (a capture hole and a restart) and loses whatever the relay itself was writing
 * (a journal entry, a loss-ledger line). So at every closed segment and before every ledger line
 * the free space is read (statfs) and, below the headroom, the oldest pending segments are
 * evicted, loudly, as `disk-full` — before the filesystem is full, not after.
 *
 * The headroom is room for the segment ffmpeg is writing now (twice the largest recent one, in
 * whole blocks: a scene change or a keyframe-heavy stretch), the journal's next rewrite, and a
 * margin for the small metadata writes.
 */
export class FreeSpaceGuard {
  readonly #path: string;
  readonly #read: SpaceReader;
  readonly #emit: Emit;
  readonly #recent: number[] = [];
  #blockSize = 4096;
  /** Said once when the disk stays short with nothing left to evict, once when it recovers. */
  #short = false;

  constructor(path: string, emit: Emit, read: SpaceReader = readSpace) {
    this.#path = path;
    this.#emit = emit;
    this.#read = read;
  }

  /** A segment ffmpeg closed: its size predicts the one being written now. */
  noteSegment(bytes: number): void {
    this.#recent.push(bytes);
    if (this.#recent.length > RECENT_SEGMENTS) this.#recent.shift();
  }

  /** Bytes to keep free with `pendingSegments` in the journal. */
  headroom(pendingSegments: number): number {
    const largest = Math.max(0, ...this.#recent);
    const inBlocks = Math.ceil(largest / this.#blockSize) * this.#blockSize;
    return 2 * inBlocks + METADATA_MARGIN_BYTES + pendingSegments * JOURNAL_BYTES_PER_SEGMENT;
  }

  /**
   * Evict through `evictOldest` (false: nothing left to evict) until the filesystem has the
   * headroom, and say what was done. When statfs cannot tell, nothing is evicted on a guess.
   */
  async makeRoom(pendingSegments: () => number, evictOldest: () => Promise<boolean>): Promise<void> {
    const { evicted, room, freeBytes } = await this.#evictUntilRoom(pendingSegments, evictOldest);
    const headroom = this.headroom(pendingSegments());
    if (evicted > 0) {
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `the spool's disk is nearly full (${freeBytes} bytes free): evicted ${evicted} segment(s) to keep ${headroom} bytes free for the segment being written`,
      });
    }
    if (room === 'short' && !this.#short) {
      this.#emit({
        type: 'log',
        level: 'warn',
        message: `the spool's disk has ${freeBytes} bytes free, less than the ${headroom} the next segment may need, and nothing more of this camera can be evicted: free space on it`,
      });
    } else if (room === 'enough' && this.#short) {
      this.#emit({ type: 'log', level: 'info', message: "the spool's disk has room again" });
    }
    if (room !== 'unknown') this.#short = room === 'short';
  }

  async #evictUntilRoom(
    pendingSegments: () => number,
    evictOldest: () => Promise<boolean>,
  ): Promise<{ evicted: number; room: 'enough' | 'short' | 'unknown'; freeBytes?: number }> {
    let evicted = 0;
    for (;;) {
      const space = await this.#read(this.#path);
      if (!space) return { evicted, room: 'unknown' };
      this.#blockSize = space.blockSize || this.#blockSize;
      const { freeBytes } = space;
      if (freeBytes >= this.headroom(pendingSegments())) return { evicted, room: 'enough', freeBytes };
      if (!(await evictOldest())) return { evicted, room: 'short', freeBytes };
      evicted++;
    }
  }
}
