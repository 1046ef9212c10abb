import { afterEach, describe, expect, it, vi } from 'vitest';
import { REPEAT_WINDOW_MS, ShutdownSignals } from '../../src/cli/signals.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('ShutdownSignals', () => {
  it('first signal stops gracefully, an immediate repeat is ignored, a later one forces the exit', () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const signals = new ShutdownSignals(
      (s) => seen.push(`first ${s}`),
      (s) => seen.push(`second ${s}`),
    ).install();
    try {
      // process.emit runs the listeners without delivering a real signal to the test worker.
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGTERM', 'SIGTERM'); // timeout(1) signals the process group too
      expect(seen).toEqual(['first SIGTERM']);
      vi.advanceTimersByTime(REPEAT_WINDOW_MS);
      process.emit('SIGINT', 'SIGINT');
      expect(seen).toEqual(['first SIGTERM', 'second SIGINT']);
    } finally {
      signals.dispose();
    }
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});
