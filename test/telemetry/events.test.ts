import { describe, expect, it, vi } from 'vitest';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';
import { ndjson } from '../../src/telemetry/ndjson.js';
import { schemaViolation } from '../helpers/ndjson-schema.js';

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

  it('a failing listener is reported once, masked, and the bus goes on for every camera', () => {
    const bus = new EventBus();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const seen: string[] = [];
    try {
      bus.on((event) => {
        // Not even an Error, and quoting a secret.
        throw `cannot draw ${event.camera} rtsp://admin:hunter2@cam/1`;
      });
      bus.on((event) => seen.push(event.camera));
      for (const camera of ['a', 'b', 'a']) bus.forCamera(camera)({ type: 'state', state: 'relaying' });
      bus.forProcess()({ type: 'log', level: 'info', message: 'reloaded' });
      expect(seen).toEqual(['a', 'b', 'a', '']);
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toContain('cannot draw a');
      expect(String(stderr.mock.calls[0]![0])).not.toContain('hunter2');
    } finally {
      stderr.mockRestore();
    }
  });

  it("process-level events have no camera in NDJSON; a camera's events name it; both fit the schema", () => {
    const bus = new EventBus();
    const lines: string[] = [];
    bus.on(ndjson((line) => lines.push(line)));
    bus.forProcess()({ type: 'log', level: 'info', message: 'metrics on http://127.0.0.1:9464/metrics' });
    bus.forProcess()({ type: 'error', code: 'ERR_CONFIG', message: 'bad reload' });
    bus.forCamera('cam-1')({ type: 'log', level: 'warn', message: 'x' });
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.camera)).toEqual([undefined, undefined, 'cam-1']);
    for (const event of events) expect(schemaViolation(event)).toBeUndefined();
    // The schema still wants a camera on everything else.
    expect(schemaViolation({ v: 1, ts: new Date().toISOString(), type: 'state', state: 'relaying' })).toMatch(
      /camera/,
    );
  });
});
