import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/uploader/backoff.js';
import { classify, parseRetryAfter } from '../../src/uploader/classify.js';

const response = (status: number, retryAfter?: string) =>
  ({ kind: 'response', status, retryAfter, body: 'x' }) as const;

describe('classify', () => {
  it.each([
    [200, 'ok'],
    [201, 'ok'],
    [204, 'ok'],
    [401, 'auth'],
    [403, 'auth'],
    [408, 'transient'],
    [425, 'transient'],
    [429, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
    [400, 'reject'],
    [404, 'reject'],
    [413, 'reject'],
    [415, 'reject'],
    [301, 'transient'],
  ])('HTTP %i is %s', (status, expected) => {
    expect(classify(response(status)).class).toBe(expected);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ERR_DEADLINE'])(
    '%s is transient',
    (code) => {
      expect(classify({ kind: 'error', code, message: 'm' }).class).toBe('transient');
    },
  );

  it('a vanished segment file is not retried', () => {
    expect(classify({ kind: 'error', code: 'ENOENT', message: 'gone' }).class).toBe('unreadable');
  });

  it('honours Retry-After in seconds and as a date', () => {
    expect(classify(response(429, '7'))).toMatchObject({ class: 'transient', retryAfterMs: 7000 });
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const policy = { baseMs: 1000, capMs: 60_000, retryAfterCapMs: 300_000 };

  it('grows exponentially under full jitter, up to the cap', () => {
    expect(backoffDelay(policy, 1, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 4, undefined, () => 1)).toBe(8000);
    expect(backoffDelay(policy, 30, undefined, () => 1)).toBe(60_000);
    expect(backoffDelay(policy, 4, undefined, () => 0)).toBe(0);
  });

  it('uses Retry-After, capped', () => {
    expect(backoffDelay(policy, 1, 5000)).toBe(5000);
    expect(backoffDelay(policy, 1, 3_600_000)).toBe(300_000);
  });
});
