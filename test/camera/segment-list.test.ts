import { describe, expect, it } from 'vitest';
import { parseSegmentListLine } from '../../src/camera/segment-list.js';
import { WallClock } from '../../src/camera/wall-clock.js';

describe('parseSegmentListLine', () => {
  it('parses ffmpeg csv lines, with and without quoting', () => {
    expect(parseSegmentListLine('seg-000000007.ts,0.000000,1.000000')).toEqual({
      name: 'seg-000000007.ts',
      startS: 0,
      endS: 1,
    });
    expect(parseSegmentListLine('"a,""b"".ts",1.5,3.5')).toEqual({
      name: 'a,"b".ts',
      startS: 1.5,
      endS: 3.5,
    });
    expect(parseSegmentListLine('/spool/dir/seg-000000001.ts,2,4')?.name).toBe('seg-000000001.ts');
  });

  it('ignores anything else', () => {
    expect(parseSegmentListLine('frame=  10 fps=5')).toBeUndefined();
    expect(parseSegmentListLine('')).toBeUndefined();
  });
});

describe('WallClock', () => {
  it('anchors on the first segment and keeps later ones continuous', () => {
    let now = 1_000_000;
    const clock = new WallClock(() => now);
    expect(clock.place(0, 2).start.getTime()).toBe(998_000);
    now = 1_002_300; // closing latency jitter is not a jump
    expect(clock.place(2, 4)).toEqual({ start: new Date(1_000_000) });
  });

  it('reports a wall-clock jump and re-anchors', () => {
    let now = 1_000_000;
    const clock = new WallClock(() => now);
    clock.place(0, 2);
    now += 2000 + 3600_000; // NTP stepped the clock an hour forward
    const placed = clock.place(2, 4);
    expect(placed.clockJumpS).toBe(3600);
    expect(placed.start.getTime()).toBe(now - 2000);
  });
});
