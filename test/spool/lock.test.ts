import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpoolBusyError } from '../../src/errors.js';
import { CameraLock, cameraLockHeld } from '../../src/spool/lock.js';
import { LEDGER_ROTATE_BYTES, recordLoss } from '../../src/spool/losses.js';

describe('CameraLock', () => {
  it('one holder per camera and spool root; released, it can be taken again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lock-'));
    const first = await CameraLock.acquire(root, 'cam');
    expect(first.enforced).toBe(true);
    const second = CameraLock.acquire(root, 'cam');
    await expect(second).rejects.toBeInstanceOf(SpoolBusyError);
    await expect(second).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    expect(await cameraLockHeld(root, 'cam')).toBe(true);
    // Another camera on the same root is independent.
    const other = await CameraLock.acquire(root, 'cam-2');
    await first.release();
    expect(await cameraLockHeld(root, 'cam')).toBe(false);
    await (await CameraLock.acquire(root, 'cam')).release();
    await other.release();
  });

  it('no lock file: cannot tell (a relay of an earlier release)', async () => {
    expect(await cameraLockHeld(mkdtempSync(join(tmpdir(), 'lock-')), 'cam')).toBeUndefined();
  });
});

describe('loss ledger', () => {
  it('is rotated by size', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledger-'));
    writeFileSync(join(root, 'trio-relay-losses.jsonl'), 'x'.repeat(LEDGER_ROTATE_BYTES));
    const gap = { seqFrom: 1, seqTo: 1, start: 'a', end: 'b', reason: 'evicted' as const, bytes: 1 };
    await recordLoss(root, 'cam', gap);
    await recordLoss(root, 'cam', gap);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(root, 'trio-relay-losses.jsonl.1'), 'utf8')).toMatch(/"seqFrom":1/);
    expect(readFileSync(join(root, 'trio-relay-losses.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
