import { describe, expect, it } from 'vitest';
import { type UploadJob, UploadScheduler } from '../../src/uploader/upload-scheduler.js';

/** Take jobs until none may go, finishing each at once (as a pool of one would). */
function drainOrder(scheduler: UploadScheduler): string[] {
  const order: string[] = [];
  for (let job = scheduler.next(); job; job = scheduler.next()) {
    order.push(`${job.camera}:${job.sequence}${job.live ? '*' : ''}`);
    scheduler.finish(job.camera, job.sequence);
  }
  return order;
}

describe('UploadScheduler', () => {
  it('fifo: each camera oldest first, cameras taking turns', () => {
    const s = new UploadScheduler('fifo', 1);
    for (const seq of [1, 2, 3, 4]) s.add('a', seq, false);
    s.add('b', 10, true);
    s.add('c', 20, true);
    expect(drainOrder(s)).toEqual(['a:1', 'b:10*', 'c:20*', 'a:2', 'a:3', 'a:4']);
  });

  it('a long backlog does not starve another camera: its live segment goes within one turn', () => {
    const s = new UploadScheduler('fifo', 1);
    for (let seq = 1; seq <= 500; seq++) s.add('backlog', seq, false);
    const first = s.next()!;
    s.finish(first.camera, first.sequence);
    s.add('live', 7, true);
    expect(s.next()).toEqual({ camera: 'live', sequence: 7, live: true });
  });

  it('keeps a camera in order with one slot: nothing overtakes a segment waiting out its retry', () => {
    const s = new UploadScheduler('fifo', 1);
    s.add('a', 1, false);
    s.add('a', 2, false);
    const job = s.next()!;
    expect(job.sequence).toBe(1);
    // In flight or backing off: the camera's only slot is taken.
    expect(s.next()).toBeUndefined();
    s.retry('a', 1);
    expect(s.next()?.sequence).toBe(1);
  });

  it('adopted older segments slot in at their place', () => {
    const s = new UploadScheduler('fifo', 1);
    s.add('a', 5, true);
    s.add('a', 2, false);
    s.add('a', 3, false);
    expect(drainOrder(s)).toEqual(['a:2', 'a:3', 'a:5*']);
  });

  it('live-first: the newest segment of each camera, then each backlog oldest first', () => {
    const s = new UploadScheduler('live-first', 1);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    s.add('a', 4, true);
    for (const seq of [1, 2]) s.add('b', seq, false);
    s.add('b', 3, true);
    expect(drainOrder(s)).toEqual(['a:4*', 'b:3*', 'a:1', 'b:1', 'a:2', 'b:2', 'a:3']);
  });

  it('live-first: a segment closed while the backlog drains goes next', () => {
    const s = new UploadScheduler('live-first', 1);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    const take = (): UploadJob => {
      const job = s.next()!;
      s.finish(job.camera, job.sequence);
      return job;
    };
    expect(take().sequence).toBe(1);
    s.add('a', 4, true);
    expect(take()).toEqual({ camera: 'a', sequence: 4, live: true });
    expect([take().sequence, take().sequence]).toEqual([2, 3]);
  });

  it('a camera may have up to its limit active; a removed camera hands out nothing more', () => {
    const s = new UploadScheduler('fifo', 2);
    for (const seq of [1, 2, 3]) s.add('a', seq, false);
    expect([s.next()?.sequence, s.next()?.sequence, s.next()]).toEqual([1, 2, undefined]);
    expect(s.size('a')).toBe(3);
    s.removeCamera('a');
    expect(s.next()).toBeUndefined();
    expect(s.size('a')).toBe(0);
  });
});
