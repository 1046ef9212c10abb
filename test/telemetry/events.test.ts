import { describe, expect, it, vi } from 'vitest';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';

describe('event bus', () => {
  it('a listener that throws does not stop the others, nor the emitter', () => {
    const bus = new EventBus();
    const seen: StampedEvent[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      bus.on(() => {
        throw new Error('broken listener');
      });
      bus.on((event) => seen.push(event));
      const emit = bus.forCamera('cam-1');
      expect(() => emit({ type: 'log', level: 'info', message: 'one' })).not.toThrow();
      emit({ type: 'log', level: 'info', message: 'two' });
      expect(seen.map((e) => [e.camera, e.type === 'log' && e.message])).toEqual([
        ['cam-1', 'one'],
        ['cam-1', 'two'],
      ]);
      // Said once, not once per event.
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toMatch(/telemetry listener failed.*broken listener/);
    } finally {
      stderr.mockRestore();
    }
  });
});
