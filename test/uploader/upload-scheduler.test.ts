import { describe, expect, it } from 'vitest';
import type { UploadJob } from '../../src/uploader/upload-scheduler.js';
import { scheduling } from '../helpers/segment-queue.js';

describe('UploadScheduler (asking each camera’s spool)', () => {
  it('fifo: each camera oldest first, cameras taking turns', () => {
    const s = scheduling('fifo', 1);
    for (const seq of [1, 2, 3, 4]) s.add('a', seq, false);
    s.add('b', 10, true);
    s.add('c', 20, true);
    expect(s.drainOrder()).toEqual(['a:1', 'b:10*', 'c:20*', 'a:2', 'a:3', 'a:4']);
  });

  it('a long backlog does not starve another camera: its live segment goes within one turn', () => {
    const s = scheduling('fifo', 1);
    for (let seq = 1; seq <= 500; seq++) s.add('backlog', seq, false);
    s.spoolOf('live');
    s.deliver(s.scheduler.next()!);
    s.add('live', 7, true);
    expect(s.scheduler.next()).toEqual({ camera: 'live', sequence: 7, live: true });
  });

  it('keeps a camera in order with one slot: nothing overtakes a segment waiting out its retry', () => {
    const s = scheduling('fifo', 1);
    s.add('a', 1, false);
    s.add('a', 2, false);
    const job = s.scheduler.next()!;
    expect(job.sequence).toBe(1);
    // In flight or backing off: the camera's only slot is taken.
    expect(s.scheduler.next()).toBeUndefined();
    s.scheduler.retry('a', 1);
    expect(s.scheduler.next()?.sequence).toBe(1);
  });

  it('adopted older segments slot in at their place', () => {
    const s = scheduling('fifo', 1);
    s.add('a', 5, true);
    s.add('a', 2, false);
    s.add('a', 3, false);
    expect(s.drainOrder()).toEqual(['a:2', 'a:3', 'a:5*']);
  });

  it('live-first: the newest segment of each camera, then each backlog oldest first', () => {
    const s = scheduling('live-first', 1);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    s.add('a', 4, true);
    for (const seq of [1, 2]) s.add('b', seq, false);
    s.add('b', 3, true);
    expect(s.drainOrder()).toEqual(['a:4*', 'b:3*', 'a:1', 'b:1', 'a:2', 'b:2', 'a:3']);
  });

  it('live-first: a segment closed while the backlog drains goes next', () => {
    const s = scheduling('live-first', 1);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    const take = (): UploadJob => {
      const job = s.scheduler.next()!;
      s.deliver(job);
      return job;
    };
    expect(take().sequence).toBe(1);
    s.add('a', 4, true);
    expect(take()).toEqual({ camera: 'a', sequence: 4, live: true });
    expect([take().sequence, take().sequence]).toEqual([2, 3]);
  });

  it('a camera may have up to its limit active; a removed camera hands out nothing more', () => {
    const s = scheduling('fifo', 2);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    expect([s.scheduler.next()?.sequence, s.scheduler.next()?.sequence, s.scheduler.next()]).toEqual([
      1,
      2,
      undefined,
    ]);
    expect(s.scheduler.size('a')).toBe(3);
    expect(s.scheduler.ready()).toBe(0);
    s.scheduler.removeCamera('a');
    expect(s.scheduler.next()).toBeUndefined();
    expect(s.scheduler.size('a')).toBe(0);
  });

  it('a reload that changes the per-camera limit applies to the next hand-out', () => {
    const s = scheduling('fifo', 1);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    expect(s.scheduler.next()?.sequence).toBe(1);
    expect(s.scheduler.next()).toBeUndefined();
    s.scheduler.setPerCameraLimit(3);
    expect(s.scheduler.ready()).toBe(2);
    expect([s.scheduler.next()?.sequence, s.scheduler.next()?.sequence]).toEqual([2, 3]);
    s.scheduler.setPerCameraLimit(1);
    s.scheduler.retry('a', 2);
    // Three active under a limit of one: nothing more goes until two have finished.
    expect(s.scheduler.next()).toBeUndefined();
  });

  it('an evicted segment is never handed out, waiting or back from a retry', () => {
    const s = scheduling('fifo', 1);
    for (const seq of [1, 2, 3, 4]) s.add('a', seq, true);
    expect(s.scheduler.next()?.sequence).toBe(1);
    // The spool evicts 2 while 1 is in flight, then 1 while it waits out a retry.
    s.spoolOf('a').remove(2);
    s.spoolOf('a').remove(1);
    s.scheduler.retry('a', 1);
    expect(s.scheduler.size('a')).toBe(2);
    expect(s.drainOrder()).toEqual(['a:3', 'a:4*']);
  });

  it('what a job left for the next run is not offered again in this one', () => {
    const s = scheduling('fifo', 1);
    s.add('a', 1, false);
    s.add('a', 2, false);
    const job = s.scheduler.next()!;
    // A fatal verdict, say: the segment stays spooled, its job is over.
    s.scheduler.finish(job.camera, job.sequence);
    expect(s.drainOrder()).toEqual(['a:2']);
  });
});
