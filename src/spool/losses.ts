import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { type GapRecord, segmentEnd } from './journal.js';
import { LOSS_LEDGER_FILE } from './naming.js';

/** Past this size the ledger is rotated to `.1` (the previous `.1` to `.2`, and so on). */
export const LEDGER_ROTATE_BYTES = 4 * 1024 * 1024;
/** Rotated ledgers kept beside the current one: at most (1 + this) × the size above on disk. */
export const LEDGER_KEEP = 3;

/**
 * Append one loss to the spool root's JSONL ledger, durably (fsync before it counts): the
 * human-readable record of every drop. Rotated by size so years of losses stay bounded.
 */
export async function recordLoss(root: string, camera: string, gap: GapRecord): Promise<void> {
  const path = join(root, LOSS_LEDGER_FILE);
  const line = { ts: new Date().toISOString(), camera, ...gap };
  const size = await appendWhole(path, `${JSON.stringify(line)}\n`);
  if (size > LEDGER_ROTATE_BYTES) await rotate(path);
}

/**
 * Lines kept while the ledger cannot be written (~200 bytes each): memory stays bounded on a disk
 * that never comes back; past this the oldest kept line goes (its loss is still announced to the
 * cloud and counted in the metrics).
 */
const MAX_UNWRITTEN = 1000;

/**
 * The loss ledger of one camera's spool. A line that cannot be written (a full disk, a read-only
 * remount) is kept in memory and written before the next one, so a loss said once in the
 * ledger's order is never dropped from it while the relay runs.
 */
export class LossLedger {
  readonly #root: string;
  readonly #camera: string;
  #unwritten: string[] = [];
  /** One append at a time: lines keep their order. */
  #writing: Promise<void> = Promise.resolve();

  constructor(root: string, camera: string) {
    this.#root = root;
    this.#camera = camera;
  }

  /** Lines waiting for a write that failed. */
  get unwritten(): number {
    return this.#unwritten.length;
  }

  /** Append `gap` (after any line still unwritten); rejects when the write fails, keeping both. */
  record(gap: GapRecord): Promise<void> {
    this.#keep([`${JSON.stringify({ ts: new Date().toISOString(), camera: this.#camera, ...gap })}\n`]);
    return this.flush();
  }

  /** Write the lines kept from failed writes; rejects when it fails again. */
  flush(): Promise<void> {
    const run = this.#writing.then(() => this.#write());
    this.#writing = run.catch(() => {});
    return run;
  }

  async #write(): Promise<void> {
    if (this.#unwritten.length === 0) return;
    // Taken out while written: lines recorded meanwhile wait for the next write.
    const lines = this.#unwritten;
    this.#unwritten = [];
    const path = join(this.#root, LOSS_LEDGER_FILE);
    let size: number;
    try {
      size = await appendWhole(path, lines.join(''));
    } catch (error) {
      const later = this.#unwritten;
      this.#unwritten = [];
      this.#keep([...lines, ...later]);
      throw error;
    }
    if (size > LEDGER_ROTATE_BYTES) await rotate(path);
  }

  #keep(lines: readonly string[]): void {
    this.#unwritten.push(...lines);
    if (this.#unwritten.length > MAX_UNWRITTEN)
      this.#unwritten.splice(0, this.#unwritten.length - MAX_UNWRITTEN);
  }
}

/**
 * Append durably, all or nothing: a write cut short (ENOSPC halfway) is truncated away, so the
 * retry does not leave a torn line that would make the ledger unreadable as JSON lines.
 */
async function appendWhole(path: string, text: string): Promise<number> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    const before = (await handle.stat()).size;
    try {
      await handle.appendFile(text, 'utf8');
      await handle.datasync();
    } catch (error) {
      await handle.truncate(before).catch(() => {});
      throw error;
    }
    return before + Buffer.byteLength(text);
  } finally {
    await handle.close();
  }
}

async function rotate(path: string): Promise<void> {
  for (let i = LEDGER_KEEP - 1; i >= 1; i--) {
    await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
  }
  await rename(path, `${path}.1`);
}

/** A gap covering one segment, or a stretch of capture, with its reason. */
export function gapOf(
  segment: {
    readonly sequence: number;
    readonly start: string;
    readonly durationS: number;
    readonly bytes: number;
  },
  reason: GapRecord['reason'],
): GapRecord {
  return {
    seqFrom: segment.sequence,
    seqTo: segment.sequence,
    start: segment.start,
    end: segmentEnd(segment),
    reason,
    bytes: segment.bytes,
  };
}

/** Gap header value: `seq=12-14; start=…; end=…; reason=evicted`, several joined by ", ". */
export function formatGapHeader(gaps: readonly GapRecord[]): string {
  return gaps
    .map((g) => `seq=${g.seqFrom}-${g.seqTo}; start=${g.start}; end=${g.end}; reason=${g.reason}`)
    .join(', ');
}
