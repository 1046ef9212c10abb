import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type JournalData,
  JournalWriter,
  readJournal,
  replay,
  type SegmentRecord,
} from '../../src/spool/journal.js';
import { segmentName } from '../../src/spool/naming.js';

function segment(sequence: number): SegmentRecord {
  return {
    name: segmentName(sequence),
    sequence,
    start: '2026-11-25T10:00:00.000Z',
    durationS: 1,
    bytes: 100,
    idempotencyKey: `cam:run:${sequence}`,
  };
}

function state(segments: SegmentRecord[]): JournalData {
  return {
    version: 2,
    cameraId: 'cam',
    runId: 'run',
    owner: { pid: 1, host: 'h', startedAt: '2026-11-25T10:00:00.000Z' },
    nextSequence: 0,
    segments,
    gaps: [],
  };
}

describe('journal', () => {
  it('replays a head and its changes; a torn last line (a crash mid-append) is ignored', () => {
    const lines = [
      JSON.stringify({ op: 'head', state: state([segment(1)]) }),
      JSON.stringify({ op: 'add', segment: segment(2) }),
      JSON.stringify({ op: 'del', sequence: 1 }),
      '{"op":"add","segment":{"name":"seg-0000',
    ];
    const data = replay(lines.join('\n'));
    expect(data?.segments.map((s) => s.sequence)).toEqual([2]);
    expect(data?.nextSequence).toBe(3);
  });

  it('no valid head: no journal (the dir is then judged by its name)', () => {
    expect(replay('{not json')).toBeUndefined();
    expect(replay(JSON.stringify({ op: 'add', segment: segment(1) }))).toBeUndefined();
  });

  it('group-commits concurrent changes and compacts once changes outnumber live records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    let live: SegmentRecord[] = [];
    const writer = new JournalWriter(dir, () => state(live));
    await writer.rewrite();
    for (let i = 0; i < 400; i++) {
      live = [segment(i)];
      // A change and its undo, many at once: they share writes.
      await Promise.all([
        writer.append({ op: 'add', segment: segment(i) }),
        writer.append({ op: 'del', sequence: i - 1 }),
      ]);
    }
    await writer.close();
    const text = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    expect(text.trim().split('\n').length).toBeLessThan(2 * 1 + 256 + 3);
    expect((await readJournal(dir))?.segments.map((s) => s.sequence)).toEqual([399]);
  });
});
