import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/telemetry/events.js';
import { StatusTracker } from '../../src/telemetry/status-tracker.js';

function setup() {
  let now = Date.parse('2026-01-01T00:00:00Z');
  let oldest: number | undefined;
  const tracker = new StatusTracker(
    'cam-1',
    {
      pendingCount: () => (oldest === undefined ? 0 : 1),
      spoolBytes: () => 0,
      spoolUsedBytes: () => 0,
      spoolMaxBytes: () => 1000,
      oldestPendingStartMs: () => oldest,
      retrying: () => 0,
      delivered: () => 0,
      bytesSent: () => 0,
      fps: () => 0,
    },
    () => now,
  );
  const bus = new EventBus();
  bus.on((e) => tracker.observe(e));
  return {
    tracker,
    emit: bus.forCamera('cam-1'),
    advance: (ms: number) => {
      now += ms;
    },
    setOldest: (msAgo: number | undefined) => {
      oldest = msAgo === undefined ? undefined : now - msAgo;
    },
  };
}

describe('status tracker', () => {
  it('times since the last closed and delivered segment, from the start until the first', () => {
    const { tracker, emit, advance } = setup();
    advance(5000);
    expect(tracker.snapshot()).toMatchObject({ sinceClosedS: 5, closedAny: false, deliveredAny: false });
    emit({ type: 'segment', phase: 'closed', sequence: 1, bytes: 10, durationS: 1 });
    advance(2000);
    emit({ type: 'segment', phase: 'delivered', sequence: 1, bytes: 10 });
    advance(3000);
    expect(tracker.snapshot()).toMatchObject({
      sinceClosedS: 5,
      sinceDeliveredS: 3,
      closedAny: true,
      deliveredAny: true,
    });
  });

  it('ingest failing from the first failed exchange until one works, with its reason as last error', () => {
    const { tracker, emit, advance } = setup();
    emit({
      type: 'request',
      request: 'register',
      outcome: 'transient',
      durationS: 0,
      reason: 'ECONNREFUSED',
    });
    advance(4000);
    emit({ type: 'request', request: 'register', outcome: 'transient', durationS: 0, reason: 'ECONNRESET' });
    advance(1000);
    expect(tracker.snapshot()).toMatchObject({ ingestFailingS: 5, lastError: 'registration: ECONNRESET' });
    emit({ type: 'request', request: 'ingest', outcome: 'reject', durationS: 0, status: 400 });
    expect(tracker.snapshot().ingestFailingS).toBeUndefined();
    emit({ type: 'request', request: 'ingest', outcome: 'auth', durationS: 0, status: 401 });
    expect(tracker.snapshot()).toMatchObject({ ingestFailingS: 0, lastError: 'upload: HTTP 401' });
  });

  it('backlog age is the age of the oldest pending segment, 0 when none', () => {
    const { tracker, setOldest } = setup();
    expect(tracker.snapshot().backlogAgeS).toBe(0);
    setOldest(42_000);
    expect(tracker.snapshot().backlogAgeS).toBe(42);
  });
});
