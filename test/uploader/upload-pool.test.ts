import { describe, expect, it } from 'vitest';
import { type PoolWorker, UploadPool } from '../../src/uploader/upload-pool.js';
import type { UploadJob } from '../../src/uploader/upload-scheduler.js';

/** A worker whose attempts the test settles by hand: each attempt waits for a verdict. */
function manualWorker() {
  const attempts: Array<{ job: UploadJob; settle: (retry?: Promise<void>) => void }> = [];
  let onAttempt: (() => void) | undefined;
  const worker: PoolWorker = {
    attempt: (job) =>
      new Promise((resolve) => {
        attempts.push({ job, settle: (retry) => resolve(retry ? () => retry : undefined) });
        onAttempt?.();
      }),
  };
  /** Resolves once `n` attempts have started in all. */
  const started = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (attempts.length >= n) resolve();
      };
      onAttempt = check;
      check();
    });
  return { worker, attempts, started };
}

describe('UploadPool', () => {
  it('segments released together (the ingest is back) go in the scheduler’s order, not in wake-up order', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const a = manualWorker();
    const b = manualWorker();
    const seatA = pool.join('a', a.worker);
    const seatB = pool.join('b', b.worker);
    seatA.add(1, false);
    seatB.add(1, false);
    let back!: () => void;
    const gate = new Promise<void>((resolve) => (back = resolve));
    await a.started(1);
    // a was served first; its wait wakes a few microtasks after b's.
    a.attempts[0]!.settle(gate.then(() => undefined).then(() => undefined));
    await b.started(1);
    b.attempts[0]!.settle(gate);
    const order: string[] = [];
    const next = Promise.race([
      a.started(2).then(() => order.push('a')),
      b.started(2).then(() => order.push('b')),
    ]);
    back();
    await next;
    // The camera served longest ago first, as the scheduler decides.
    expect(order).toEqual(['a']);
  });

  it('never has more than `concurrency` requests in flight over all cameras', async () => {
    const pool = new UploadPool({ concurrency: 2, order: 'fifo', perCameraLimit: 1 });
    const a = manualWorker();
    const b = manualWorker();
    const c = manualWorker();
    const seats = [pool.join('a', a.worker), pool.join('b', b.worker), pool.join('c', c.worker)];
    for (const seat of seats) seat.add(1, true);
    await Promise.all([a.started(1), b.started(1)]);
    expect(c.attempts).toHaveLength(0);
    a.attempts[0]!.settle();
    await c.started(1);
    expect(c.attempts[0]!.job).toEqual({ camera: 'c', sequence: 1, live: true });
  });

  it('a camera waiting out a retry holds no slot: the others go on meanwhile', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const failing = manualWorker();
    const healthy = manualWorker();
    const f = pool.join('failing', failing.worker);
    const h = pool.join('healthy', healthy.worker);
    f.add(1, false);
    f.add(2, false);
    await failing.started(1);
    let endBackoff!: () => void;
    failing.attempts[0]!.settle(new Promise((resolve) => (endBackoff = resolve)));
    h.add(1, true);
    await healthy.started(1);
    healthy.attempts[0]!.settle();
    h.add(2, true);
    await healthy.started(2);
    healthy.attempts[1]!.settle();
    await h.idle();
    // The failing camera's segment 1 goes again after its backoff, still before its segment 2.
    endBackoff();
    await failing.started(2);
    expect(failing.attempts.map((x) => x.job.sequence)).toEqual([1, 1]);
    failing.attempts[1]!.settle();
    await failing.started(3);
    expect(failing.attempts[2]!.job.sequence).toBe(2);
    failing.attempts[2]!.settle();
    await f.idle();
    expect(f.size).toBe(0);
  });

  it('leave() stops handing out the camera and waits for its running attempt', async () => {
    const pool = new UploadPool({ concurrency: 4, order: 'fifo', perCameraLimit: 1 });
    const w = manualWorker();
    const seat = pool.join('a', w.worker);
    seat.add(1, false);
    seat.add(2, false);
    await w.started(1);
    let left = false;
    const leaving = seat.leave().then(() => {
      left = true;
    });
    await seat.idle();
    expect(left).toBe(false);
    w.attempts[0]!.settle();
    await leaving;
    expect(w.attempts).toHaveLength(1);
    // The camera may join again (a restart at a reload).
    expect(() => pool.join('a', manualWorker().worker)).not.toThrow();
  });

  it('a camera at its share gets nothing more though slots are free; the next camera does', async () => {
    const pool = new UploadPool({ concurrency: 4, order: 'fifo', perCameraLimit: 1 });
    const a = manualWorker();
    const b = manualWorker();
    const seatA = pool.join('a', a.worker);
    const seatB = pool.join('b', b.worker);
    seatA.add(1, false);
    seatA.add(2, false);
    await a.started(1);
    // The queue class hands out nothing of a (at its share): b's segment, added after, goes first.
    seatB.add(1, false);
    await b.started(1);
    expect(a.attempts).toHaveLength(1);
    a.attempts[0]!.settle();
    await a.started(2);
    expect(a.attempts[1]!.job.sequence).toBe(2);
    a.attempts[1]!.settle();
    b.attempts[0]!.settle();
    await Promise.all([seatA.idle(), seatB.idle()]);
    expect(seatA.size + seatB.size).toBe(0);
  });

  it('a reload that raises the concurrency starts the waiting requests at once', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const a = manualWorker();
    const b = manualWorker();
    const seatA = pool.join('a', a.worker);
    const seatB = pool.join('b', b.worker);
    seatA.add(1, false);
    seatB.add(1, false);
    await a.started(1);
    expect(b.attempts).toHaveLength(0);
    pool.resize(2, 1);
    await b.started(1);
    a.attempts[0]!.settle();
    b.attempts[0]!.settle();
    await Promise.all([seatA.idle(), seatB.idle()]);
  });
});
