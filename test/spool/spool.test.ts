import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal } from '../../src/spool/journal.js';
import { segmentName } from '../../src/spool/naming.js';
import type { Spool } from '../../src/spool/spool.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';
import { openSpool } from '../helpers/spools.js';

const emit = new EventBus().forCamera('cam');

/** What the spool holds pending, as its journal on disk says. */
async function pendingIn(spool: Spool) {
  return (await readJournal(spool.dir))?.segments ?? [];
}

async function spoolWith(root: string, sequences: number) {
  const spool = await openSpool({ root, cameraId: 'cam', maxBytes: 1e9, emit });
  for (let i = 0; i < sequences; i++) {
    const name = segmentName(spool.nextSequence);
    writeFileSync(join(spool.dir, name), Buffer.alloc(500, 1));
    await spool.addClosed({ name, start: new Date(), durationS: 1 });
  }
  return spool;
}

describe('Spool', () => {
  it('creates a 0700 dir with our prefix and journals every closed segment', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const spool = await spoolWith(root, 2);
    expect(spool.dir.startsWith(join(root, 'trio-relay-segments-cam~'))).toBe(true);
    expect(statSync(spool.dir).mode & 0o777).toBe(0o700);
    const journal = await readJournal(spool.dir);
    expect(journal?.segments.map((s) => s.sequence)).toEqual([0, 1]);
    expect(journal?.owner.pid).toBe(process.pid);
    expect(journal?.nextSequence).toBe(2);
    // Appends and write-then-rename leave no temporary files behind.
    expect(readdirSync(spool.dir).sort()).toEqual(['journal.jsonl', segmentName(0), segmentName(1)]);
  });

  it('continues the sequence across runs, so a restart never reuses a name or a key', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const first = await spoolWith(root, 3);
    const firstKeys = (await pendingIn(first)).map((r) => r.idempotencyKey);
    for (const r of await pendingIn(first)) await first.delivered(r.sequence, []);
    expect(await first.close()).toEqual({ removed: true, pending: 0 });
    const second = await spoolWith(root, 1);
    const [record] = await pendingIn(second);
    expect(record?.sequence).toBe(3);
    expect(record?.idempotencyKey).toMatch(/^cam:[0-9a-f]{12}:3$/);
    expect(firstKeys).not.toContain(record?.idempotencyKey);
  });

  it('keeps a non-empty spool with its journal on close', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const spool = await spoolWith(root, 2);
    expect(await spool.close()).toEqual({ removed: false, pending: 2 });
    expect((await readJournal(spool.dir))?.segments).toHaveLength(2);
  });

  it('allows one upload of a segment at a time', async () => {
    const spool = await spoolWith(mkdtempSync(join(tmpdir(), 'spool-')), 1);
    expect(spool.beginUpload(0)).toMatchObject({ sequence: 0 });
    expect(spool.beginUpload(0)).toBeUndefined();
    spool.endUpload(0);
    expect(spool.beginUpload(0)).toMatchObject({ sequence: 0 });
    expect(spool.beginUpload(99)).toBeUndefined();
  });

  it('is the only queue: offers its segments oldest first, each once, and never one it evicted', async () => {
    const spool = await openSpool({
      root: mkdtempSync(join(tmpdir(), 'spool-')),
      cameraId: 'cam',
      maxBytes: 1200,
      emit,
    });
    const told: Array<number | undefined> = [];
    spool.queue.listen((closed) => told.push(closed));
    const close = async () => {
      const name = segmentName(spool.nextSequence);
      writeFileSync(join(spool.dir, name), Buffer.alloc(500, 1));
      await spool.addClosed({ name, start: new Date(), durationS: 1 });
    };
    await close();
    await close();
    // Delivery takes 0; then 1 is evicted to make room for 2 (0 is being sent, so it stays).
    expect(spool.queue.oldestWaiting()).toBe(0);
    spool.queue.handOut(0);
    expect(spool.beginUpload(0)).toMatchObject({ sequence: 0 });
    await close();
    expect(spool.holds(1)).toBe(false);
    expect([spool.queue.oldestWaiting(), spool.queue.newestWaiting(), spool.queue.waitingCount]).toEqual([
      2, 2, 1,
    ]);
    // Told of each segment closed, and of the eviction (a segment gone).
    expect(told).toEqual([0, 1, undefined, 2]);
    spool.endUpload(0);
    await spool.delivered(0, []);
    expect(spool.queue.oldestWaiting()).toBe(2);
  });

  it('one journal line per change, not a rewrite: the cost does not grow with the backlog', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const spool = await spoolWith(root, 50);
    const lines = () => readFileSync(join(spool.dir, 'journal.jsonl'), 'utf8').trim().split('\n');
    const before = lines().length;
    const first = (await pendingIn(spool))[0]!;
    await spool.delivered(first.sequence, []);
    expect(lines().length).toBe(before + 1);
    expect(JSON.parse(lines().at(-1)!)).toEqual({ op: 'del', sequence: first.sequence });
  });

  it('at a stop, a final partial segment over the bound is dropped, not an older complete one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const spool = await openSpool({ root, cameraId: 'cam', maxBytes: 1000, emit });
    writeFileSync(join(spool.dir, segmentName(0)), Buffer.alloc(600, 1));
    await spool.addClosed({ name: segmentName(0), start: new Date(), durationS: 5 });
    writeFileSync(join(spool.dir, segmentName(1)), Buffer.alloc(600, 1));
    await spool.addClosed({ name: segmentName(1), start: new Date(), durationS: 3, final: true });
    expect((await pendingIn(spool)).map((r) => r.sequence)).toEqual([0]);
    expect(spool.gaps()).toEqual([expect.objectContaining({ seqFrom: 1, reason: 'evicted' })]);
  });

  it('trusts no camera state or ledger planted through a symlink', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'planted-'));
    writeFileSync(join(elsewhere, 'state.json'), JSON.stringify({ nextSequence: 999_999_990 }));
    symlinkSync(join(elsewhere, 'state.json'), join(root, 'trio-relay-camera-cam.json'));
    symlinkSync(join(elsewhere, 'ledger'), join(root, 'trio-relay-losses.jsonl'));
    const spool = await spoolWith(root, 1);
    expect((await pendingIn(spool))[0]?.sequence).toBe(0);
    await spool.drop(0, 'evicted');
    // The loss is still announced; the ledger write refused to follow the link.
    expect(spool.gaps()).toHaveLength(1);
    expect(readdirSync(elsewhere)).toEqual(['state.json']);
  });

  it('a journal that cannot be written is one error event, never silent; the next good write restores it whole', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spool-'));
    const bus = new EventBus();
    const events: StampedEvent[] = [];
    bus.on((e) => events.push(e));
    const spool = await openSpool({ root, cameraId: 'cam', maxBytes: 1e9, emit: bus.forCamera('cam') });
    // A real write failure, as root too: the journal's path is now a directory (EISDIR).
    rmSync(join(spool.dir, 'journal.jsonl'));
    mkdirSync(join(spool.dir, 'journal.jsonl'));
    const add = async () => {
      const name = segmentName(spool.nextSequence);
      writeFileSync(join(spool.dir, name), Buffer.alloc(500, 1));
      return spool.addClosed({ name, start: new Date(), durationS: 1 });
    };
    expect(await add()).toBeDefined();
    expect(await add()).toBeDefined();
    const errors = events.filter((e) => e.type === 'error' && e.code === 'ERR_JOURNAL');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: expect.stringContaining(spool.dir) });
    // The segments stay on disk, and no temporary file is left behind.
    expect(readdirSync(spool.dir).sort()).toEqual(['journal.jsonl', segmentName(0), segmentName(1)]);

    rmSync(join(spool.dir, 'journal.jsonl'), { recursive: true });
    await add();
    expect(events.some((e) => e.type === 'log' && /journal is written again/.test(e.message))).toBe(true);
    expect((await readJournal(spool.dir))?.segments.map((s) => s.sequence)).toEqual([0, 1, 2]);
  });

  it('gaps settle by their sequence range: a copy settles one, a gap that grew since it was sent stays', async () => {
    const spool = await spoolWith(mkdtempSync(join(tmpdir(), 'spool-')), 4);
    await spool.drop(0, 'evicted');
    const sent = spool.gaps().map((g) => ({ ...g }));
    await spool.drop(1, 'evicted'); // merged into the gap sent: 0..1 now
    await spool.delivered(2, sent);
    expect(spool.gaps()).toEqual([expect.objectContaining({ seqFrom: 0, seqTo: 1, reason: 'evicted' })]);
    await spool.delivered(
      3,
      spool.gaps().map((g) => ({ ...g })),
    );
    expect(spool.gaps()).toEqual([]);
  });
});
