import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GapRecord } from '../../src/spool/journal.js';
import { LossLedger } from '../../src/spool/losses.js';
import { LOSS_LEDGER_FILE } from '../../src/spool/naming.js';

const gap = (seq: number): GapRecord => ({
  seqFrom: seq,
  seqTo: seq,
  start: new Date(seq * 1000).toISOString(),
  end: new Date(seq * 1000 + 1000).toISOString(),
  reason: 'disk-full',
  bytes: 100,
});

describe('LossLedger', () => {
  it('keeps a line it could not write and writes it, in order, before the next one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledger-'));
    const path = join(root, LOSS_LEDGER_FILE);
    const ledger = new LossLedger(root, 'cam');
    await ledger.record(gap(1));
    // The ledger cannot be written for a while (a directory in its place stands for a full disk).
    const blocked = `${path}.blocked`;
    renameSync(path, blocked);
    mkdirSync(path);
    await expect(ledger.record(gap(2))).rejects.toThrow();
    expect(ledger.unwritten).toBe(1);
    rmdirSync(path);
    renameSync(blocked, path);
    await ledger.record(gap(3));
    expect(ledger.unwritten).toBe(0);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as GapRecord);
    expect(lines.map((l) => l.seqFrom)).toEqual([1, 2, 3]);
    expect(lines.every((l) => l.reason === 'disk-full')).toBe(true);
  });

  it('writes every line of losses recorded at once, each once, in order', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledger-'));
    const ledger = new LossLedger(root, 'cam');
    await Promise.all([1, 2, 3, 4].map((seq) => ledger.record(gap(seq))));
    const lines = readFileSync(join(root, LOSS_LEDGER_FILE), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as GapRecord).seqFrom)).toEqual([1, 2, 3, 4]);
  });
});
