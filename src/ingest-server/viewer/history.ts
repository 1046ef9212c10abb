import { join } from 'node:path';
import { readNoFollow } from '../../spool/fsutil.js';
import type { GapInfo, LedgerEntry } from '../ledger.js';
import { shownName } from '../registration.js';

/** Per camera, this many recent ledger rows, declared gaps and duplicates are kept in memory. */
export const RECENT_ROWS = 50;
export const KEPT_GAPS = 500;
export const KEPT_DUPLICATES = 500;

/** What the viewer shows of one camera besides its segments. */
export interface CameraHistory {
  readonly id: string;
  /** From its registration body (`name` in camera.json), read when first shown. */
  name: string | null;
  registeredAt: string | null;
  lastSeen: string;
  readonly counts: { accepted: number; duplicate: number; rejected: number; fault: number };
  /** Newest last; each list is capped, so memory stays bounded however long the ingest runs. */
  readonly recent: LedgerEntry[];
  readonly gaps: GapInfo[];
  readonly duplicates: number[];
}

/** The ledger rows of every camera, folded into what the viewer page needs. */
export class ViewerHistory {
  readonly #cameras = new Map<string, CameraHistory>();

  /** Fold one ledger row in. */
  record(row: LedgerEntry): void {
    const camera = this.#camera(row.camera);
    camera.lastSeen = row.ts;
    push(camera.recent, row, RECENT_ROWS);
    if (row.event === 'register' && row.status === 'accepted') {
      camera.registeredAt = row.ts;
      camera.name = null; // it may have registered under a new name: read again when shown
    }
    if (row.event !== 'segment') return;
    camera.counts[row.status]++;
    if (row.status === 'duplicate' && row.sequence !== null)
      push(camera.duplicates, row.sequence, KEPT_DUPLICATES);
    if (row.status === 'accepted' && Array.isArray(row.gap)) {
      for (const gap of row.gap) push(camera.gaps, gap, KEPT_GAPS);
    }
  }

  /** How many cameras were seen. */
  get size(): number {
    return this.#cameras.size;
  }

  /**
   * Cameras seen, `limit` of them from `offset` in order of first appearance, with the registered
   * names read from their camera.json (only for the page asked for).
   */
  async cameras(outDir: string, offset = 0, limit = Number.POSITIVE_INFINITY): Promise<CameraHistory[]> {
    const page = [...this.#cameras.values()].slice(offset, offset + limit);
    for (const camera of page) {
      if (camera.name !== null || camera.registeredAt === null) continue;
      const json = (await readNoFollow(join(outDir, camera.id, 'camera.json'))) ?? '{}';
      try {
        camera.name = shownName((JSON.parse(json) as { name?: unknown }).name);
      } catch {
        camera.name = '';
      }
    }
    return page;
  }

  get(id: string): CameraHistory | undefined {
    return this.#cameras.get(id);
  }

  #camera(id: string): CameraHistory {
    let camera = this.#cameras.get(id);
    if (!camera) {
      camera = {
        id,
        name: null,
        registeredAt: null,
        lastSeen: '',
        counts: { accepted: 0, duplicate: 0, rejected: 0, fault: 0 },
        recent: [],
        gaps: [],
        duplicates: [],
      };
      this.#cameras.set(id, camera);
    }
    return camera;
  }
}

function push<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
}
