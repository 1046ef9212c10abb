import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TransientVerdict } from '../../src/uploader/classify.js';
import { answersAgain, type Probe, RetryPacer } from '../../src/uploader/retry-pacer.js';

const refused: TransientVerdict = { class: 'transient', reason: 'ECONNREFUSED', unreachable: true };
const http503: TransientVerdict = { class: 'transient', reason: 'HTTP 503', unreachable: false, status: 503 };
const http429: TransientVerdict = { class: 'transient', reason: 'HTTP 429', unreachable: false, status: 429 };
const hung: TransientVerdict = { class: 'transient', reason: 'ERR_HEADERS_TIMEOUT', unreachable: true };

/**
 * A pacer with jitter pinned to its middle: every probe interval is exactly 2250 ms (2 s plus
 * half the 500 ms jitter) and every backoff half its ceiling. The probe answers from `answers`
 * in turn (then keeps the last), counting calls.
 */
function pacer(answers: boolean[], backoff = { baseMs: 8000, capMs: 15_000, retryAfterCapMs: 60_000 }) {
  const probes: number[] = [];
  const reachability: Array<[boolean, string]> = [];
  const retry = new RetryPacer({
    backoff,
    random: () => 0.5,
    onReachability: (reachable, why) => reachability.push([reachable, why]),
  });
  const probe: Probe = async () => {
    probes.push(Date.now());
    return answers[Math.min(probes.length - 1, answers.length - 1)]!;
  };
  return { retry, probe, probes, reachability };
}

/** Resolve with the fake time at which `wait` returned. */
async function waited(promise: Promise<void>): Promise<number> {
  let doneAt: number | undefined;
  void promise.then(() => {
    doneAt = Date.now();
  });
  while (doneAt === undefined) await vi.advanceTimersByTimeAsync(50);
  return doneAt;
}

describe('RetryPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a 429 gets the full jittered backoff and no probe: the ingest answered, it is up', async () => {
    const { retry, probe, probes } = pacer([true]);
    const plan = retry.plan(http429, 2);
    expect(plan).toMatchObject({ delayMs: 7500, probe: false });
    expect(await waited(retry.wait(plan, new AbortController().signal, probe))).toBe(7500);
    expect(probes).toEqual([]);
  });

  it('Retry-After wins, even when the ingest looks down', () => {
    const { retry } = pacer([false]);
    expect(retry.plan({ ...refused, retryAfterMs: 3000 }, 1)).toMatchObject({ delayMs: 3000, probe: false });
    expect(retry.plan({ ...http503, retryAfterMs: 3000 }, 1)).toMatchObject({ delayMs: 3000, probe: false });
  });

  it('5xx, a refused connection and a hung request all say the ingest may be down', () => {
    const { retry } = pacer([true]);
    for (const verdict of [http503, refused, hung]) expect(retry.plan(verdict, 1).probe).toBe(true);
  });

  it('a failure whose probe answers was that request’s trouble: the rest of the backoff applies', async () => {
    const { retry, probe, probes, reachability } = pacer([true]);
    const plan = retry.plan(http503, 2);
    expect(await waited(retry.wait(plan, new AbortController().signal, probe))).toBe(7500);
    expect(probes).toEqual([2250]);
    expect(reachability).toEqual([]);
    expect(retry.away).toBe(false);
  });

  it('an ingest that is away is probed every 2–2.5 s and retried the moment it answers, not after the backoff', async () => {
    // Away for the first 4 probes, back at the 5th: the backoff alone could have waited 15 s.
    const { retry, probe, probes, reachability } = pacer([false, false, false, false, true]);
    const plan = retry.plan(http503, 5);
    expect(plan.delayMs).toBe(7500);
    expect(await waited(retry.wait(plan, new AbortController().signal, probe))).toBe(11_250);
    expect(probes).toEqual([2250, 4500, 6750, 9000, 11_250]);
    expect(reachability).toEqual([
      [false, 'HTTP 503'],
      [true, ''],
    ]);
  });

  it('32 cameras failing at once share one probe: one request per interval for the process, one outage line', async () => {
    const { retry, probes, reachability } = pacer([false]);
    const stop = new AbortController();
    const calls: number[] = [];
    const waits = Array.from({ length: 32 }, (_, camera) =>
      retry.wait(retry.plan(refused, 1), stop.signal, async () => {
        calls.push(camera);
        probes.push(Date.now());
        return false;
      }),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probes).toEqual([2250, 4500, 6750, 9000]);
    // The first suspect's probe serves everyone.
    expect(new Set(calls)).toEqual(new Set([0]));
    expect(reachability).toEqual([[false, 'ECONNREFUSED']]);
    stop.abort();
    await Promise.all(waits);
  });

  it('while away, every waiter is released at once when the ingest answers, whatever its backoff', async () => {
    const { retry, probe } = pacer([false, true]);
    const stop = new AbortController();
    const short = retry.wait(retry.plan(http503, 1), stop.signal, probe);
    const long = retry.wait(retry.plan(http503, 9), stop.signal, probe);
    expect(await waited(Promise.all([short, long]).then(() => undefined))).toBe(4500);
  });

  it('a request answered meanwhile ends a suspicion without a probe, and an absence at once', async () => {
    const { retry, probe, probes, reachability } = pacer([false]);
    const stop = new AbortController();
    void retry.wait(retry.plan(http503, 1), stop.signal, probe);
    await vi.advanceTimersByTimeAsync(1000);
    retry.observe({ class: 'ok' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(probes).toEqual([]);

    const away = retry.wait(retry.plan(http503, 5), stop.signal, probe);
    await vi.advanceTimersByTimeAsync(7000); // probes at 8250 and 10500 fail
    expect(retry.away).toBe(true);
    retry.observe({ class: 'reject', status: 400, body: '' });
    expect(await waited(away)).toBe(13_000);
    expect(reachability.map(([r]) => r)).toEqual([false, true]);
    stop.abort();
  });

  it('a stop releases the waiters; closing the pacer (the process ends) stops the probing', async () => {
    const { retry, probe, probes } = pacer([false]);
    const stop = new AbortController();
    const first = retry.wait(retry.plan(refused, 1), stop.signal, probe);
    await vi.advanceTimersByTimeAsync(5000);
    stop.abort();
    await first;
    retry.close();
    const before = probes.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probes.length).toBe(before);
    expect(retry.away).toBe(false);
  });
});

describe('answersAgain', () => {
  it('any HTTP answer but a 5xx means the ingest serves again', () => {
    const response = (status: number) => ({ kind: 'response' as const, status, body: '' });
    expect(answersAgain(response(404))).toBe(true);
    expect(answersAgain(response(401))).toBe(true);
    expect(answersAgain(response(204))).toBe(true);
    expect(answersAgain(response(503))).toBe(false);
    expect(answersAgain({ kind: 'error', code: 'ERR_HEADERS_TIMEOUT', message: '' })).toBe(false);
  });
});
