import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface GapInfo {
  seq_from: number;
  seq_to: number;
  start: string;
  end: string;
  reason: string;
}

/** One line of `<out>/<camera>/ledger.jsonl`. */
export interface LedgerEntry {
  ts: string;
  camera: string;
  event: 'segment' | 'register' | 'session_end';
  status: 'accepted' | 'duplicate' | 'rejected' | 'fault';
  http_status: number;
  size: number;
  sha256: string | null;
  /** File name inside `<out>/<camera>/`. */
  file: string | null;
  idempotency_key: string | null;
  sequence: number | null;
  start: string | null;
  duration: number | null;
  /** Parsed X-Segment-Gap (or `{raw}` when it does not parse). */
  gap: GapInfo[] | { raw: string } | null;
  clock_jump: number | null;
}

export const LEDGER_FILE = 'ledger.jsonl';

export async function appendLedger(outDir: string, entry: LedgerEntry): Promise<void> {
  await appendFile(join(outDir, entry.camera, LEDGER_FILE), `${JSON.stringify(entry)}\n`);
}

/** Every ledger row under `outDir`, camera by camera (to rebuild the de-duplication set). */
export async function readLedgers(outDir: string): Promise<LedgerEntry[]> {
  const rows: LedgerEntry[] = [];
  for (const camera of await readdir(outDir).catch(() => [] as string[])) {
    const text = await readFile(join(outDir, camera, LEDGER_FILE), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push(JSON.parse(line) as LedgerEntry);
      } catch {
        // A torn last line after a crash: skip it.
      }
    }
  }
  return rows;
}

/** `seq=12-14; start=…; end=…; reason=evicted, seq=…` → gap objects. */
export function parseGapHeader(value: string | undefined): LedgerEntry['gap'] {
  if (!value) return null;
  const gaps: GapInfo[] = [];
  for (const part of value.split(/,\s*(?=seq=)/)) {
    const fields = new Map(
      part.split(';').map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()] as const;
      }),
    );
    const seq = /^(\d+)-(\d+)$/.exec(fields.get('seq') ?? '');
    if (!seq || !fields.get('reason')) return { raw: value };
    gaps.push({
      seq_from: Number(seq[1]),
      seq_to: Number(seq[2]),
      start: fields.get('start') ?? '',
      end: fields.get('end') ?? '',
      reason: fields.get('reason')!,
    });
  }
  return gaps;
}
