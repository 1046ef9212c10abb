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
  /** Fake clocks: `elapse` moves both, `step` moves the wall clock only (NTP, a manual change). */
  function fakeClocks(wall = 1_000_000) {
    let mono = 5_000;
    return {
      clocks: { wallMs: () => wall, monoMs: () => mono },
      elapse(ms: number) {
        wall += ms;
        mono += ms;
      },
      step(ms: number) {
        wall += ms;
      },
      get wall() {
        return wall;
      },
    };
  }

  it('anchors on the first segment and keeps later ones continuous', () => {
    const t = fakeClocks();
    const clock = new WallClock(t.clocks);
    expect(clock.place(0, 2).start.getTime()).toBe(998_000);
    t.elapse(2300); // closing latency jitter is not a jump
    expect(clock.place(2, 4)).toEqual({ start: new Date(1_000_000) });
  });

  it('a segment listed late or early (the final one of a stop) is no jump', () => {
    const t = fakeClocks();
    const clock = new WallClock(t.clocks);
    clock.place(0, 2);
    t.elapse(300); // SIGINT: ffmpeg lists its 2 s segment 0.3 s after the last one
    expect(clock.place(2, 4)).toEqual({ start: new Date(1_000_000) });
    t.elapse(9000); // a busy box lists the next one very late
    expect(clock.place(4, 6)).toEqual({ start: new Date(1_002_000) });
  });

  it('reports a step of the wall clock once, and re-anchors on it', () => {
    const t = fakeClocks();
    const clock = new WallClock(t.clocks);
    clock.place(0, 2);
    t.elapse(2000);
    t.step(3600_000); // NTP stepped the clock an hour forward
    const placed = clock.place(2, 4);
    expect(placed.clockJumpS).toBe(3600);
    expect(placed.start.getTime()).toBe(t.wall - 2000);
    t.elapse(2000);
    expect(clock.place(4, 6)).toEqual({ start: new Date(t.wall - 2000) });
  });

  it('reports a backward step as a negative jump', () => {
    const t = fakeClocks();
    const clock = new WallClock(t.clocks);
    clock.place(0, 2);
    t.elapse(2000);
    t.step(-30_000);
    const placed = clock.place(2, 4);
    expect(placed.clockJumpS).toBe(-30);
    // Start times stay monotonic: the segment follows the last one, not the stepped-back clock.
    expect(placed.start).toEqual(new Date(1_000_000));
    t.elapse(2000);
    expect(clock.place(4, 6).start).toEqual(new Date(1_002_000));
    // Once the video timeline has passed the stepped-back clock, segments follow the wall clock again.
    t.elapse(40_000);
    expect(clock.place(44, 46).start.getTime()).toBe(t.wall - 2000);
  });
});
