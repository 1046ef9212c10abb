import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readNoFollow } from '../spool/fsutil.js';
import type { SegmentHeaders } from './segment-headers.js';
import { appendNoFollow } from './store-dir.js';

export type { GapField, GapInfo } from './segment-headers.js';

export type LedgerEvent = 'segment' | 'register' | 'session_end';
export type LedgerStatus = 'accepted' | 'duplicate' | 'rejected' | 'fault';

/** One line of `<out>/<camera>/ledger.jsonl`: what arrived, when, and what we answered. */
export interface LedgerEntry extends SegmentHeaders {
  /** Arrival time, ISO-8601 UTC. */
  ts: string;
  camera: string;
  event: LedgerEvent;
  status: LedgerStatus;
  /** What the client was answered; 0 when it got no answer (hang, reset). */
  http_status: number;
  size: number;
  sha256: string | null;
  /** File name inside `<out>/<camera>/`, when something was stored. */
  file: string | null;
  /** The first PES timestamp (PTS) in the segment, seconds: where ffmpeg's clock stood. */
  first_pts: number | null;
}

export const LEDGER_FILE = 'ledger.jsonl';

/** A row with every field present (null when unknown), so the ledger's shape never varies. */
export function newEntry(
  camera: string,
  event: LedgerEvent,
  status: LedgerStatus,
  httpStatus: number,
  fields: Partial<Omit<LedgerEntry, 'camera' | 'event' | 'status' | 'http_status'>> = {},
): LedgerEntry {
  return {
    ts: new Date().toISOString(),
    camera,
    event,
    status,
    http_status: httpStatus,
    size: 0,
    sha256: null,
    file: null,
    first_pts: null,
    idempotency_key: null,
    sequence: null,
    start: null,
    duration: null,
    gap: null,
    clock_jump: null,
    ...fields,
  };
}

/** Append one row (never through a symlink). Callers serialize per camera, so rows land in decision order. */
export async function appendLedger(outDir: string, entry: LedgerEntry): Promise<void> {
  await appendNoFollow(join(outDir, entry.camera, LEDGER_FILE), `${JSON.stringify(entry)}\n`);
}

/**
 * Every ledger row under `outDir`, oldest first across cameras (to rebuild what was seen).
 * A ledger whose last line was torn by a crash gets a newline, so the next row starts clean.
 */
export async function loadLedgers(outDir: string): Promise<LedgerEntry[]> {
  const rows: LedgerEntry[] = [];
  const cameras = await readdir(outDir, { withFileTypes: true }).catch(() => []);
  for (const dir of cameras) {
    if (!dir.isDirectory()) continue;
    const file = join(outDir, dir.name, LEDGER_FILE);
    // A ledger planted as a symlink reads as empty: neither read nor "repaired" through it.
    const text = (await readNoFollow(file)) ?? '';
    if (text !== '' && !text.endsWith('\n')) await appendNoFollow(file, '\n');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push({ ...(JSON.parse(line) as LedgerEntry), camera: dir.name });
      } catch {
        // A torn last line from a crash mid-append: that request was never answered 2xx.
      }
    }
  }
  // ISO timestamps sort as strings; the sort is stable, so rows of one camera keep file order.
  return rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}
