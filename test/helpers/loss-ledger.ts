import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOSS_LEDGER_FILE } from '../../src/spool/naming.js';

/** The lines of a spool root's loss ledger, parsed (empty when there is none). */
export function readLossLedgerLines(root: string): Record<string, unknown>[] {
  const path = join(root, LOSS_LEDGER_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
