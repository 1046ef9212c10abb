import { describe, expect, it } from 'vitest';
import {
  formatDurationMs,
  MAX_TIMER_MS,
  parseByteRate,
  parseDurationMs,
  parseNumber,
} from '../../src/config/parse.js';
import { ConfigError } from '../../src/errors.js';

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDurationMs', () => {
  it.each([
    ['30', 30_000],
    ['1.5', 1500],
    ['250ms', 250],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    [' 30s ', 30_000],
    [45, 45_000],
    ['0.0004s', 0],
    ['1.6ms', 2],
  ])('%j → %i ms', (text, ms) => {
    expect(parseDurationMs('x', text, { min: 0, max: MAX_TIMER_MS })).toBe(ms);
  });

  // Number() would take most of these; an operator means none of them.
  it.each([
    '',
    '   ',
    '1e9',
    '1e3s',
    'Infinity',
    'NaN',
    '-1',
    '+5',
    '0x10',
    '.5',
    '5.',
    '1.5.2',
    '30 s',
    '1h30m',
    '30S',
    '5min',
    'soon',
  ])('rejects %j', (text) => {
    const e = thrown(() => parseDurationMs('upload-timeout', text));
    expect(e.message).toMatch(/^--upload-timeout .*: expected a duration from 1ms to \d+ms \(seconds, or/);
  });

  it('shows an empty value as ""', () => {
    expect(thrown(() => parseDurationMs('x', '')).message).toMatch(/^--x "": expected/);
  });

  it('never returns more than a Node timer holds, whatever the range says', () => {
    expect(parseDurationMs('x', `${MAX_TIMER_MS}ms`, { min: 0, max: Number.MAX_VALUE })).toBe(MAX_TIMER_MS);
    const e = thrown(() => parseDurationMs('x', '25d', { min: 0, max: Number.MAX_VALUE }));
    expect(e.message).toMatch(/^--x 25d: expected a duration from 0s to 2147483647ms /);
    expect(() => parseDurationMs('x', '99999999999999999999999999h')).toThrow(ConfigError);
  });

  it('names the range, and why its minimum is what it is', () => {
    expect(
      thrown(() => parseDurationMs('retry-max', '2s', { min: 5000, max: 3_600_000, minWhy: '--retry-base' }))
        .message,
    ).toBe(
      '--retry-max 2s: expected a duration from 5s (--retry-base) to 1h (seconds, or with a unit: 250ms, 30s, 5m, 1h, 2d)',
    );
  });

  it('accepts both ends of the range', () => {
    expect(parseDurationMs('x', '1s', { min: 1000, max: 600_000 })).toBe(1000);
    expect(parseDurationMs('x', '10m', { min: 1000, max: 600_000 })).toBe(600_000);
    expect(() => parseDurationMs('x', '999ms', { min: 1000, max: 600_000 })).toThrow(/from 1s to 10m/);
    expect(() => parseDurationMs('x', '600.001s', { min: 1000, max: 600_000 })).toThrow(/from 1s to 10m/);
  });
});

describe('formatDurationMs', () => {
  it.each([
    [0, '0s'],
    [10, '10ms'],
    [1500, '1500ms'],
    [90_000, '90s'],
    [600_000, '10m'],
    [3_600_000, '1h'],
    [24 * 86_400_000, '24d'],
  ])('%i ms → %s, which parses back', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
    expect(parseDurationMs('x', text, { min: 0, max: MAX_TIMER_MS })).toBe(ms);
  });
});

describe('parseNumber', () => {
  const fps = { min: 0.1, max: 120, what: 'frames per second' };
  const count = { min: 1, max: 16, integer: true, what: 'a whole number' };

  it('reads plain decimals within the range', () => {
    expect(parseNumber('fps', '0.1', fps)).toBe(0.1);
    expect(parseNumber('fps', ' 29.97 ', fps)).toBe(29.97);
    expect(parseNumber('fps', 120, fps)).toBe(120);
    expect(parseNumber('n', '16', count)).toBe(16);
  });

  it.each(['', ' ', '0', '0.09', '121', '-1', '1e1', '0x10', 'Infinity', 'many', '.5'])(
    'rejects --fps %j',
    (text) => {
      expect(thrown(() => parseNumber('fps', text, fps)).message).toMatch(
        /^--fps .*: expected frames per second from 0\.1 to 120$/,
      );
    },
  );

  it.each(['1.5', '0', '17', '2.0'])('rejects a count of %j', (text) => {
    expect(thrown(() => parseNumber('upload-concurrency', text, count)).message).toBe(
      `--upload-concurrency ${text}: expected a whole number from 1 to 16`,
    );
  });
});

describe('parseByteRate', () => {
  it.each([
    ['4Mbit/s', 500_000],
    ['4mbit/s', 500_000],
    ['500kbit/s', 62_500],
    ['2MB/s', 2_000_000],
    ['1.5Gbit/s', 187_500_000],
    ['8 bit/s', 1],
  ])('reads %j as %d bytes/s', (text, bytes) => {
    expect(parseByteRate('read-rate', text)).toBe(bytes);
  });

  it.each(['', '4', '4M', '4Mbit', '4 Mb/s', '16Mbps', '-1MB/s', '0bit/s', '4bit/s', '1e3B/s', 'fast'])(
    'rejects %j',
    (text) => {
      expect(thrown(() => parseByteRate('read-rate', text)).message).toMatch(
        /^--read-rate .*: expected a rate such as 4Mbit\/s, 500kbit\/s or 2MB\/s \(at least 1B\/s\)$/,
      );
    },
  );
});
