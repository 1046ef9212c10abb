import { describe, expect, it } from 'vitest';
import { type PoolWorker, UploadPool } from '../../src/uploader/upload-pool.js';
import type { UploadJob } from '../../src/uploader/upload-scheduler.js';
import { segmentQueue } from '../helpers/segment-queue.js';

/**
 * A camera whose attempts the test settles by hand: each attempt waits for a verdict; settled
 * without a wait, the segment was delivered and leaves its spool.
 */
function manualCamera(pool: UploadPool, camera: string) {
  const spool = segmentQueue();
  const attempts: Array<{ job: UploadJob; settle: (retry?: Promise<void>) => void }> = [];
  let onAttempt: (() => void) | undefined;
  const worker: PoolWorker = {
    attempt: (job) =>
      new Promise((resolve) => {
        attempts.push({
          job,
          settle: (retry) => {
            if (!retry) spool.remove(job.sequence);
            resolve(retry ? () => retry : undefined);
          },
        });
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
  const seat = pool.join(camera, worker, spool.queue);
  return { seat, spool, add: spool.add, attempts, started };
}

describe('UploadPool (asking each camera’s spool for its next segment)', () => {
  it('segments released together (the ingest is back) go in the scheduler’s order, not in wake-up order', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const a = manualCamera(pool, 'a');
    const b = manualCamera(pool, 'b');
    a.add(1, false);
    b.add(1, false);
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
    const a = manualCamera(pool, 'a');
    const b = manualCamera(pool, 'b');
    const c = manualCamera(pool, 'c');
    for (const camera of [a, b, c]) camera.add(1, true);
    await Promise.all([a.started(1), b.started(1)]);
    expect(c.attempts).toHaveLength(0);
    a.attempts[0]!.settle();
    await c.started(1);
    expect(c.attempts[0]!.job).toEqual({ camera: 'c', sequence: 1, live: true });
  });

  it('a camera waiting out a retry holds no slot: the others go on meanwhile', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const failing = manualCamera(pool, 'failing');
    const healthy = manualCamera(pool, 'healthy');
    failing.add(1, false);
    failing.add(2, false);
    await failing.started(1);
    let endBackoff!: () => void;
    failing.attempts[0]!.settle(new Promise((resolve) => (endBackoff = resolve)));
    healthy.add(1, true);
    await healthy.started(1);
    healthy.attempts[0]!.settle();
    healthy.add(2, true);
    await healthy.started(2);
    healthy.attempts[1]!.settle();
    await healthy.seat.idle();
    // The failing camera's segment 1 goes again after its backoff, still before its segment 2.
    endBackoff();
    await failing.started(2);
    expect(failing.attempts.map((x) => x.job.sequence)).toEqual([1, 1]);
    failing.attempts[1]!.settle();
    await failing.started(3);
    expect(failing.attempts[2]!.job.sequence).toBe(2);
    failing.attempts[2]!.settle();
    await failing.seat.idle();
    expect(failing.seat.size).toBe(0);
  });

  it('a segment evicted while its camera waits is never handed out, and the camera goes idle', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const a = manualCamera(pool, 'a');
    for (const sequence of [1, 2, 3]) a.add(sequence, true);
    await a.started(1);
    // The spool evicts 2 while 1 is in flight, then 3 once 1 is delivered but before it is sent.
    a.spool.remove(2);
    a.attempts[0]!.settle();
    a.spool.remove(3);
    await a.seat.idle();
    expect(a.attempts.map((x) => x.job.sequence)).toEqual([1]);
    expect(a.seat.size).toBe(0);
  });

  it('a camera whose last waiting segment is evicted goes idle while others hold every slot', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const busy = manualCamera(pool, 'busy');
    const other = manualCamera(pool, 'other');
    busy.add(1, true);
    await busy.started(1);
    other.add(1, true);
    const idle = other.seat.idle();
    other.spool.remove(1);
    await idle;
    busy.attempts[0]!.settle();
    await busy.seat.idle();
    expect(other.attempts).toHaveLength(0);
  });

  it('leave() stops handing out the camera and waits for its running attempt', async () => {
    const pool = new UploadPool({ concurrency: 4, order: 'fifo', perCameraLimit: 1 });
    const a = manualCamera(pool, 'a');
    a.add(1, false);
    a.add(2, false);
    await a.started(1);
    let left = false;
    const leaving = a.seat.leave().then(() => {
      left = true;
    });
    await a.seat.idle();
    expect(left).toBe(false);
    a.attempts[0]!.settle();
    await leaving;
    expect(a.attempts).toHaveLength(1);
    // The camera may join again (a restart at a reload).
    expect(() => manualCamera(pool, 'a')).not.toThrow();
  });

  it('a camera at its share gets nothing more though slots are free; the next camera does', async () => {
    const pool = new UploadPool({ concurrency: 4, order: 'fifo', perCameraLimit: 1 });
    const a = manualCamera(pool, 'a');
    const b = manualCamera(pool, 'b');
    a.add(1, false);
    a.add(2, false);
    await a.started(1);
    // The queue class hands out nothing of a (at its share): b's segment, added after, goes first.
    b.add(1, false);
    await b.started(1);
    expect(a.attempts).toHaveLength(1);
    a.attempts[0]!.settle();
    await a.started(2);
    expect(a.attempts[1]!.job.sequence).toBe(2);
    a.attempts[1]!.settle();
    b.attempts[0]!.settle();
    await Promise.all([a.seat.idle(), b.seat.idle()]);
    expect(a.seat.size + b.seat.size).toBe(0);
  });

  it('a reload that raises the concurrency starts the waiting requests at once', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const a = manualCamera(pool, 'a');
    const b = manualCamera(pool, 'b');
    a.add(1, false);
    b.add(1, false);
    await a.started(1);
    expect(b.attempts).toHaveLength(0);
    pool.resize(2, 1);
    await b.started(1);
    a.attempts[0]!.settle();
    b.attempts[0]!.settle();
    await Promise.all([a.seat.idle(), b.seat.idle()]);
  });

  it('a reload that raises the per-camera limit sends more of one camera at once', async () => {
    const pool = new UploadPool({ concurrency: 4, order: 'fifo', perCameraLimit: 1 });
    const a = manualCamera(pool, 'a');
    for (const sequence of [1, 2, 3]) a.add(sequence, false);
    await a.started(1);
    pool.resize(4, 3);
    await a.started(3);
    expect(a.attempts.map((x) => x.job.sequence)).toEqual([1, 2, 3]);
    for (const attempt of a.attempts) attempt.settle();
    await a.seat.idle();
  });

  it('a backlog already in the spool when the camera joins goes without being queued', async () => {
    const pool = new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 });
    const spool = segmentQueue();
    for (const sequence of [4, 2, 3]) spool.add(sequence, false);
    const sent: number[] = [];
    const seat = pool.join(
      'a',
      {
        attempt: async (job) => {
          sent.push(job.sequence);
          spool.remove(job.sequence);
          return undefined;
        },
      },
      spool.queue,
    );
    await seat.idle();
    expect(sent).toEqual([2, 3, 4]);
  });
});
