import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from './ledger.js';
import { isDiscontinuity, type PlaylistSegment, type PlaylistWindow } from './viewer/playlist.js';

/** One segment file the ingest holds. */
export interface StoredSegment extends PlaylistSegment {
  readonly camera: string;
  readonly size: number;
  /** Arrival time (the ledger's `ts`): rotation removes the oldest first, across cameras. */
  readonly ts: string;
}

/** A camera's playlist window, with what the store knows of each segment. */
export interface StoreWindow extends PlaylistWindow {
  readonly segments: readonly StoredSegment[];
}

interface CameraSegments {
  readonly list: StoredSegment[];
  /** Segments that left the front of `list` (rotated out or forgotten): the media sequence. */
  removed: number;
  /** Discontinuity tags that left with them. */
  removedDiscontinuities: number;
}

/**
 * Without --max-store-mb nothing is deleted, but no more than this many segments per camera are
 * indexed in memory (the oldest are forgotten, their files stay): memory stays bounded.
 */
export const MAX_INDEXED_PER_CAMERA = 5_000;

/**
 * The stored segments per camera in arrival order (what the playlists list), their total size,
 * and oldest-first rotation that keeps that total under the store limit.
 */
export class SegmentStore {
  readonly #outDir: string;
  readonly #maxBytes: number | undefined;
  readonly #log: (line: string) => void;
  readonly #cameras = new Map<string, CameraSegments>();
  #bytes = 0;
  /** Segments forgotten by the index cap while a store limit is set: rotate() deletes them. */
  readonly #forgotten: StoredSegment[] = [];
  /** Segments whose 204 is not out yet: rotation stops at them (see add()). */
  readonly #held = new Set<StoredSegment>();
  /** Rotations run one after another: two never pick the same file. */
  #rotating: Promise<void> = Promise.resolve();

  constructor(outDir: string, maxBytes: number | undefined, log: (line: string) => void) {
    this.#outDir = outDir;
    this.#maxBytes = maxBytes;
    this.#log = log;
  }

  /** Index what earlier runs stored and is still on disk (rows in ledger order), then rotate. */
  async load(rows: readonly LedgerEntry[]): Promise<void> {
    for (const row of rows) {
      // A ledger is read back as written, old rows and hand edits included: trust no field.
      if (row.event !== 'segment' || row.status !== 'accepted' || typeof row.file !== 'string') continue;
      const size = await lstat(join(this.#outDir, row.camera, row.file)).then(
        (s) => (s.isFile() ? s.size : undefined), // never a link planted in its place
        () => undefined, // rotated out (or removed by hand) since
      );
      if (size !== undefined) this.add({ ...row, size })(); // stored long ago: nothing to hold
    }
    await this.rotate();
  }

  /**
   * Index a segment just stored (an accepted ledger row with its file). Until the returned
   * release is called (once the client has its answer) rotation never removes it.
   */
  add(row: LedgerEntry): () => void {
    if (row.file === null) return () => {};
    const camera = this.#camera(row.camera);
    const segment: Omit<StoredSegment, 'discontinuity'> = {
      camera: row.camera,
      file: row.file,
      size: row.size,
      ts: row.ts,
      sequence: row.sequence,
      start: row.start,
      duration: row.duration,
      firstPtsS: row.first_pts ?? null, // absent in ledgers written before it existed
    };
    const discontinuity = isDiscontinuity(camera.list.at(-1), { ...segment, discontinuity: false });
    const stored = { ...segment, discontinuity };
    camera.list.push(stored);
    this.#bytes += row.size;
    if (camera.list.length > MAX_INDEXED_PER_CAMERA) {
      const gone = this.#shift(camera);
      if (this.#maxBytes !== undefined) this.#forgotten.push(gone);
    }
    this.#held.add(stored);
    return () => this.#held.delete(stored);
  }

  /** Total bytes of the indexed segments. */
  get bytes(): number {
    return this.#bytes;
  }

  cameras(): string[] {
    return [...this.#cameras.keys()];
  }

  /** The playlist window of one camera: the segments kept, and what left before them. */
  window(camera: string): StoreWindow {
    const entry = this.#cameras.get(camera);
    if (!entry) return { mediaSequence: 0, discontinuitySequence: 0, segments: [] };
    const head = entry.list[0];
    return {
      mediaSequence: entry.removed,
      // The head's own tag is not written (nothing precedes it): it is counted here instead.
      discontinuitySequence: entry.removedDiscontinuities + (head?.discontinuity ? 1 : 0),
      segments: entry.list,
    };
  }

  /** Whether `file` is a segment of `camera` the store holds (guards what the viewer serves). */
  has(camera: string, file: string): boolean {
    return this.#cameras.get(camera)?.list.some((s) => s.file === file) ?? false;
  }

  /** Delete the oldest segments, across cameras, until the total is under the limit. */
  rotate(): Promise<void> {
    const run = this.#rotating.then(async () => {
      const max = this.#maxBytes;
      if (max === undefined) return;
      for (const gone of this.#forgotten.splice(0)) {
        await rm(join(this.#outDir, gone.camera, gone.file), { force: true });
      }
      while (this.#bytes > max) {
        const oldest = this.#oldestCamera();
        // What is not answered yet is never removed: over the limit until the next rotation.
        if (!oldest || this.#held.has(oldest.list[0]!)) return;
        const gone = this.#shift(oldest);
        await rm(join(this.#outDir, gone.camera, gone.file), { force: true });
        this.#log(`store: over ${(max / 1024 / 1024).toFixed(1)} MB, removed ${gone.camera}/${gone.file}`);
      }
    });
    this.#rotating = run.catch(() => {});
    return run;
  }

  #oldestCamera(): CameraSegments | undefined {
    let oldest: CameraSegments | undefined;
    for (const camera of this.#cameras.values()) {
      const head = camera.list[0];
      if (head && (!oldest || head.ts < oldest.list[0]!.ts)) oldest = camera;
    }
    return oldest;
  }

  #shift(camera: CameraSegments): StoredSegment {
    const gone = camera.list.shift()!;
    camera.removed++;
    if (gone.discontinuity) camera.removedDiscontinuities++;
    this.#bytes -= gone.size;
    return gone;
  }

  #camera(id: string): CameraSegments {
    let camera = this.#cameras.get(id);
    if (!camera) {
      camera = { list: [], removed: 0, removedDiscontinuities: 0 };
      this.#cameras.set(id, camera);
    }
    return camera;
  }
}
