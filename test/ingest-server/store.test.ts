import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newEntry } from '../../src/ingest-server/ledger.js';
import { SegmentStore } from '../../src/ingest-server/store.js';
import { paddedSequence } from '../../src/spool/naming.js';
import { tempDir } from '../helpers/temp-dir.js';

function segment(
  camera: string,
  sequence: number,
  firstPts: number,
  ts = new Date(1_000 + sequence).toISOString(),
) {
  return newEntry(camera, 'segment', 'accepted', 204, {
    file: `${paddedSequence(sequence)}-00000000.ts`,
    size: 100,
    sequence,
    duration: 1,
    first_pts: firstPts,
    ts,
  });
}

describe('SegmentStore', () => {
  it('flags discontinuities and carries them into the discontinuity sequence as the head rotates', async () => {
    const dir = tempDir('store-');
    const camDir = join(dir, 'cam');
    mkdirSync(camDir);
    const lines: string[] = [];
    const store = new SegmentStore(dir, 250, (line) => lines.push(line));
    // seq 0 1 | restart (PTS back to 1.4, sequence jumps) | 5 6
    const rows = [
      segment('cam', 0, 1.4),
      segment('cam', 1, 2.4),
      segment('cam', 5, 1.4),
      segment('cam', 6, 2.4),
    ];
    for (const row of rows) {
      writeFileSync(join(camDir, row.file!), 'x'.repeat(100));
      store.add(row)(); // answered at once: nothing held back from rotation
    }
    expect(store.window('cam').segments.map((s) => s.discontinuity)).toEqual([false, false, true, false]);
    await store.rotate(); // 400 bytes over a 250 limit: the two oldest go
    const window = store.window('cam');
    expect(window.segments.map((s) => s.sequence)).toEqual([5, 6]);
    // The head's own discontinuity is counted, since no tag can precede the first segment.
    expect([window.mediaSequence, window.discontinuitySequence]).toEqual([2, 1]);
    expect(lines).toEqual([
      'store: over 0.0 MB, removed cam/000000000-00000000.ts',
      'store: over 0.0 MB, removed cam/000000001-00000000.ts',
    ]);
    expect(existsSync(join(camDir, rows[0]!.file!))).toBe(false);
    expect(store.has('cam', rows[0]!.file!)).toBe(false);
    expect(store.has('cam', rows[3]!.file!)).toBe(true);
  });
});
