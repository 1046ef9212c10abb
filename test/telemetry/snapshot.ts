import type { StatusSnapshot } from '../../src/telemetry/events.js';

/** A healthy camera's snapshot; each test changes what it is about. */
export function healthySnapshot(overrides: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    state: 'relaying',
    uptimeS: 120,
    mbps: 0.5,
    fps: 5,
    delivered: 40,
    retrying: 0,
    pending: 1,
    evicted: 0,
    rejected: 0,
    spoolBytes: 50_000,
    bytesSent: 2_000_000,
    lastError: undefined,
    sinceClosedS: 1,
    sinceDeliveredS: 1,
    closedAny: true,
    deliveredAny: true,
    ingestFailingS: undefined,
    backlogAgeS: 2,
    spoolUsedBytes: 50_000,
    spoolMaxBytes: 512 * 1048576,
    ...overrides,
  };
}
