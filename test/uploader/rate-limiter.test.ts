import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/uploader/rate-limiter.js';

describe('RateLimiter', () => {
  // Date.now is faked too, so the bucket refills as the fake timers advance.
  const now = () => Date.now();
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

  it('holds the average rate to the cap', async () => {
    const limiter = new RateLimiter({ bytesPerSecond: 1000, burstBytes: 100, now });
    let sent = 0;
    const send = async () => {
      for (;;) {
        await limiter.take(50, 'backlog');
        sent += 50;
      }
    };
    void send();
    await advance(10_000);
    // 10 s at 1000 B/s plus the first burst.
    expect(sent).toBeGreaterThanOrEqual(9_900);
    expect(sent).toBeLessThanOrEqual(10_150);
  });

  it('serves live bytes before backlog bytes once the cap is reached', async () => {
    const limiter = new RateLimiter({ bytesPerSecond: 100, burstBytes: 100, now });
    await limiter.take(100, 'backlog');
    const order: string[] = [];
    const backlog = limiter.take(100, 'backlog').then(() => order.push('backlog'));
    const live = limiter.take(100, 'live').then(() => order.push('live'));
    expect(limiter.saturated).toBe(true);
    await advance(1000);
    await live;
    await advance(1000);
    await backlog;
    expect(order).toEqual(['live', 'backlog']);
  });

  it('lets a chunk bigger than the burst through and goes into debt for it', async () => {
    const limiter = new RateLimiter({ bytesPerSecond: 100, burstBytes: 10, now });
    await limiter.take(500, 'backlog');
    let next = false;
    void limiter.take(10, 'backlog').then(() => {
      next = true;
    });
    await advance(4_000);
    expect(next).toBe(false);
    await advance(1_200);
    expect(next).toBe(true);
  });

  it('an aborted wait leaves at once and does not hold others up', async () => {
    const limiter = new RateLimiter({ bytesPerSecond: 10, burstBytes: 10, now });
    await limiter.take(10, 'backlog');
    const abort = new AbortController();
    const left = limiter.take(1000, 'backlog', abort.signal);
    abort.abort();
    await left;
    expect(limiter.saturated).toBe(false);
  });
});
