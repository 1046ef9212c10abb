import { describe, expect, it } from 'vitest';
import { nextRestart, type RestartPolicy } from '../../src/camera/restart-plan.js';

const policy: RestartPolicy = {
  restartBackoff: { baseMs: 1000, capMs: 30_000, retryAfterCapMs: 0 },
  authBackoff: { baseMs: 30_000, capMs: 600_000, retryAfterCapMs: 0 },
  maxRestarts: 3,
};
/** The jitter's ceiling: the longest wait the policy allows. */
const highest = () => 0.999_999;

describe('nextRestart', () => {
  it('backs off exponentially over failures in a row, up to the cap', () => {
    let count = { failures: 0, refusals: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const next = nextRestart(count, { segments: 0, refused: false }, policy, highest);
      delays.push(next.delayMs);
      count = next;
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    expect(
      nextRestart(
        { failures: 9, refusals: 0 },
        { segments: 0, refused: false },
        { ...policy, maxRestarts: 99 },
        highest,
      ).delayMs,
    ).toBe(30_000);
  });

  it('a run that closed a segment starts the count again', () => {
    const next = nextRestart({ failures: 3, refusals: 0 }, { segments: 2, refused: false }, policy, highest);
    expect([next.failures, next.delayMs, next.giveUp]).toEqual([1, 1000, false]);
  });

  it('gives up past --max-restarts failures in a row', () => {
    expect(nextRestart({ failures: 2, refusals: 0 }, { segments: 0, refused: false }, policy).giveUp).toBe(
      false,
    );
    expect(nextRestart({ failures: 3, refusals: 0 }, { segments: 0, refused: false }, policy).giveUp).toBe(
      true,
    );
  });

  it('a refused password waits at least the auth backoff base, and a working run resets the refusals', () => {
    const refused = nextRestart(
      { failures: 0, refusals: 0 },
      { segments: 0, refused: true },
      policy,
      () => 0,
    );
    expect([refused.refusals, refused.delayMs]).toEqual([1, 30_000]);
    const again = nextRestart(refused, { segments: 0, refused: true }, policy, highest);
    expect([again.refusals, again.delayMs]).toEqual([2, 60_000]);
    expect(nextRestart(again, { segments: 0, refused: false }, policy).refusals).toBe(0);
  });
});
