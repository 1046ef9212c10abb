import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../../../src/ingest-server/viewer/timeline.js';

const gap = (seq_from: number, seq_to: number, reason: string) => ({
  seq_from,
  seq_to,
  start: '',
  end: '',
  reason,
});

describe('buildTimeline', () => {
  it('tells received runs from declared and silent holes, and counts duplicates per run', () => {
    const received = [0, 1, 2, 5, 6, 9];
    expect(buildTimeline(received, [gap(3, 4, 'evicted')], [1, 1, 6])).toEqual([
      { from: 0, to: 2, kind: 'received', duplicates: 2 },
      { from: 3, to: 4, kind: 'declared', reason: 'evicted', duplicates: 0 },
      { from: 5, to: 6, kind: 'received', duplicates: 1 },
      { from: 7, to: 8, kind: 'silent', duplicates: 0 },
      { from: 9, to: 9, kind: 'received', duplicates: 0 },
    ]);
  });

  it('splits declared runs by reason, shows a trailing declared gap, and keeps only the newest span', () => {
    expect(
      buildTimeline([0, 4], [gap(1, 1, 'rejected'), gap(2, 3, 'evicted'), gap(5, 6, 'evicted')], []),
    ).toEqual([
      { from: 0, to: 0, kind: 'received', duplicates: 0 },
      { from: 1, to: 1, kind: 'declared', reason: 'rejected', duplicates: 0 },
      { from: 2, to: 3, kind: 'declared', reason: 'evicted', duplicates: 0 },
      { from: 4, to: 4, kind: 'received', duplicates: 0 },
      { from: 5, to: 6, kind: 'declared', reason: 'evicted', duplicates: 0 },
    ]);
    const many = Array.from({ length: 1000 }, (_, i) => i);
    expect(buildTimeline(many, [], [], 100)).toEqual([
      { from: 900, to: 999, kind: 'received', duplicates: 0 },
    ]);
    expect(buildTimeline([], [], [])).toEqual([]);
  });

  it('starts at the oldest segment kept: what rotation removed is no hole', () => {
    // 0–9 rotated out; an old gap far before the first kept segment is left off.
    expect(buildTimeline([10, 11], [gap(2, 3, 'evicted'), gap(8, 9, 'evicted')], [])).toEqual([
      { from: 8, to: 9, kind: 'declared', reason: 'evicted', duplicates: 0 },
      { from: 10, to: 11, kind: 'received', duplicates: 0 },
    ]);
  });
});
