import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newEntry } from '../../src/ingest-server/ledger.js';
import { SegmentStore } from '../../src/ingest-server/store.js';
import { paddedSequence } from '../../src/spool/naming.js';
import { tempDir } from '../helpers/temp-dir.js';
import { readLedger, useIngest } from './fixtures/ingest.js';

const ingest = useIngest();

/** A directory of the victim's, with one file: nothing the ingest does may change either. */
function victim(): { dir: string; file: string } {
  const dir = tempDir('victim-');
  writeFileSync(join(dir, 'precious'), 'precious'); // no trailing newline: a "torn ledger" to fix
  return { dir, file: join(dir, 'precious') };
}

function untouched(v: { dir: string; file: string }): void {
  expect(readdirSync(v.dir)).toEqual(['precious']);
  expect(readFileSync(v.file, 'utf8')).toBe('precious');
}

describe('symlinks planted in the out dir are never followed', () => {
  it('a camera dir that is a symlink: register and ingest answer a generic 500, nothing lands there', async () => {
    const v = victim();
    const out = ingest.tempDir();
    symlinkSync(v.dir, join(out, 'cam-1'));
    const s = await ingest.start({ outDir: out });
    const client = ingest.client();
    const registered = await client.register(
      s,
      JSON.stringify({ id: 'cam-1', name: 'chosen by the client' }),
    );
    expect(registered.status).toBe(500);
    expect(await registered.json()).toEqual({ error: 'internal error' });
    const posted = await client.ingest(s, 'segment 0', { headers: { 'x-segment-sequence': '0' } });
    expect(posted.status).toBe(500);
    expect(await posted.text()).not.toContain(v.dir);
    const ended = await client.send(s, 'DELETE', '/api/stream/ingest/cam-1');
    expect(ended.status).toBe(500);
    untouched(v);
    expect(ingest.lines.join('\n')).toMatch(/cam-1 is not a directory of ours \(a symbolic link\)/);
  });

  it('a ledger, camera.json or its temp planted as links: the victim files are left as they are', async () => {
    const v = victim();
    const out = ingest.tempDir();
    mkdirSync(join(out, 'cam-1'), { mode: 0o700 });
    symlinkSync(v.file, join(out, 'cam-1', 'camera.json'));
    symlinkSync(v.file, join(out, 'cam-1', '.camera.json.tmp'));
    mkdirSync(join(out, 'cam-2'), { mode: 0o700 });
    symlinkSync(v.file, join(out, 'cam-2', 'ledger.jsonl'));
    const s = await ingest.start({ outDir: out });
    untouched(v); // loading the ledgers did not "repair" the victim's file
    const client = ingest.client();
    expect((await client.register(s, JSON.stringify({ id: 'cam-1', name: 'n' }))).status).toBe(201);
    expect(lstatSync(join(out, 'cam-1', 'camera.json')).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'cam-1', 'camera.json'), 'utf8'))).toEqual({
      id: 'cam-1',
      name: 'n',
    });
    expect(readLedger(out, 'cam-1').map((r) => r.event)).toEqual(['register']);
    const posted = await client.ingest(s, 'segment 0', { camera: 'cam-2' });
    expect(posted.status).toBe(500);
    expect(await posted.json()).toEqual({ error: 'internal error' });
    untouched(v);
  });
});

describe('the store limit never loses what it acknowledged', () => {
  it('keeps a segment whose answer is pending, even over the limit, and rotates it once answered', async () => {
    const dir = tempDir('store-');
    mkdirSync(join(dir, 'cam'));
    const store = new SegmentStore(dir, 150, () => {});
    const row = (sequence: number) =>
      newEntry('cam', 'segment', 'accepted', 204, {
        file: `${paddedSequence(sequence)}-00000000.ts`,
        size: 100,
        sequence,
        ts: new Date(1_000 + sequence).toISOString(),
      });
    const a = row(0);
    const b = row(1);
    for (const r of [a, b]) writeFileSync(join(dir, 'cam', r.file!), 'x'.repeat(100));
    const releaseA = store.add(a);
    const releaseB = store.add(b);
    // Both answers pending: 200 bytes over a 150 limit, and neither may go before it is answered.
    await store.rotate();
    expect(store.window('cam').segments.map((s) => s.sequence)).toEqual([0, 1]);
    releaseA();
    await store.rotate();
    expect(store.window('cam').segments.map((s) => s.sequence)).toEqual([1]);
    expect(existsSync(join(dir, 'cam', a.file!))).toBe(false);
    releaseB();
    await store.rotate();
    expect(existsSync(join(dir, 'cam', b.file!))).toBe(true);
  });
});
