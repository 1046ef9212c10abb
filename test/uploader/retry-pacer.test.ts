import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TransientVerdict } from '../../src/uploader/classify.js';
import { RetryPacer } from '../../src/uploader/retry-pacer.js';

const refused: TransientVerdict = { class: 'transient', reason: 'ECONNREFUSED', unreachable: true };
const http503: TransientVerdict = { class: 'transient', reason: 'HTTP 503', unreachable: false };

/** A pacer whose probe answers from `answers` in turn (then keeps the last), counting calls. */
function pacer(answers: boolean[], backoff = { baseMs: 8000, capMs: 15_000, retryAfterCapMs: 60_000 }) {
  const probes: number[] = [];
  const reachability: boolean[] = [];
  const retry = new RetryPacer({
    backoff,
    probeIntervalMs: 2000,
    // Jitter pinned to its middle: every probe wait is exactly 2000 ms, the backoff half its ceiling.
    random: () => 0.5,
    probe: async () => {
      probes.push(Date.now());
      return answers[Math.min(probes.length - 1, answers.length - 1)]!;
    },
    onReachability: (r) => reachability.push(r),
  });
  return { retry, probes, reachability };
}

/** Resolve with the fake time at which `wait` returned. */
async function waited(promise: Promise<void>): Promise<number> {
  let doneAt: number | undefined;
  void promise.then(() => {
    doneAt = Date.now();
  });
  while (doneAt === undefined) await vi.advanceTimersByTimeAsync(100);
  return doneAt;
}

describe('RetryPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an ingest that answered (5xx) gets the full jittered backoff, no probe', async () => {
    const { retry, probes } = pacer([true]);
    const plan = retry.plan(http503, 2);
    expect(plan).toEqual({ delayMs: 7500, probe: false });
    expect(await waited(retry.wait(plan, new AbortController().signal))).toBe(7500);
    expect(probes).toEqual([]);
  });

  it('Retry-After wins, even for an unreachable verdict', async () => {
    const { retry } = pacer([false]);
    const plan = retry.plan({ ...refused, retryAfterMs: 3000 }, 1);
    expect(plan).toEqual({ delayMs: 3000, probe: false });
  });

  it('a refused connection whose first probe answers: a glitch, so the rest of the backoff applies', async () => {
    const { retry, probes, reachability } = pacer([true]);
    const plan = retry.plan(refused, 2);
    expect(await waited(retry.wait(plan, new AbortController().signal))).toBe(7500);
    expect(probes).toEqual([2000]);
    expect(reachability).toEqual([]);
  });

  it('an ingest that is away is probed every 2 s and retried the moment it answers, not after the backoff', async () => {
    // Down for the first 4 probes (8 s), up from the 5th: with a 15 s cap the plain backoff could wait 15 s.
    const { retry, probes, reachability } = pacer([false, false, false, false, true]);
    const plan = retry.plan(refused, 5);
    expect(plan.delayMs).toBe(7500);
    expect(await waited(retry.wait(plan, new AbortController().signal))).toBe(10_000);
    expect(probes).toEqual([2000, 4000, 6000, 8000, 10_000]);
    expect(reachability).toEqual([false, true]);
  });

  it('waiters at once share one probe loop; a stop releases them without a probe answering', async () => {
    const { retry, probes } = pacer([false]);
    const stop = new AbortController();
    const first = retry.wait(retry.plan(refused, 1), stop.signal);
    await vi.advanceTimersByTimeAsync(2500);
    const second = retry.wait(retry.plan(refused, 1), stop.signal);
    await vi.advanceTimersByTimeAsync(6000);
    // One loop: probes at 2, 4, 6, 8 s — not a second series for the second waiter.
    expect(probes).toEqual([2000, 4000, 6000, 8000]);
    stop.abort();
    await Promise.all([first, second]);
  });
});
