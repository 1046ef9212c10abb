import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GapRecord } from './journal.js';
import { LOSS_LEDGER_FILE } from './naming.js';

/** Append one loss to the spool root's JSONL ledger: the durable, human-readable record of every drop. */
export async function recordLoss(root: string, camera: string, gap: GapRecord): Promise<void> {
  const line = { ts: new Date().toISOString(), camera, ...gap };
  await appendFile(join(root, LOSS_LEDGER_FILE), `${JSON.stringify(line)}\n`, { mode: 0o600 });
}

/** Gap header value: `seq=12-14; start=…; end=…; reason=evicted`, several joined by ", ". */
export function formatGapHeader(gaps: readonly GapRecord[]): string {
  return gaps
    .map((g) => `seq=${g.seqFrom}-${g.seqTo}; start=${g.start}; end=${g.end}; reason=${g.reason}`)
    .join(', ');
}
