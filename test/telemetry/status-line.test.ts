import { describe, expect, it } from 'vitest';
import { formatStatus, squeeze, statusLabel } from '../../src/telemetry/status-line.js';
import { healthySnapshot } from './snapshot.js';

describe('status line', () => {
  it('says RELAYING with its numbers while things are well', () => {
    expect(formatStatus(healthySnapshot())).toBe(
      'RELAYING | up 2m00s | 0.50 Mbps | 5.0 fps | ok 40 | retrying 0 | pending 1 | spool 0.0 MB',
    );
  });

  it('says INGEST FAILING with how long and the time since the last delivery', () => {
    expect(statusLabel(healthySnapshot({ ingestFailingS: 75, sinceDeliveredS: 80 }))).toBe(
      'INGEST FAILING 1m15s, last delivery 1m20s ago',
    );
    expect(
      statusLabel(healthySnapshot({ ingestFailingS: 130, deliveredAny: false, sinceDeliveredS: 130 })),
    ).toBe('INGEST FAILING 2m10s, nothing delivered yet');
  });

  it('says STALLED when nothing was delivered for a minute while segments wait', () => {
    expect(statusLabel(healthySnapshot({ sinceDeliveredS: 61, pending: 7 }))).toBe(
      'STALLED: last delivery 1m01s ago',
    );
    // Nothing waiting (a camera that is down) is not a stalled delivery.
    expect(statusLabel(healthySnapshot({ sinceDeliveredS: 61, pending: 0 }))).toBe('RELAYING');
    expect(statusLabel(healthySnapshot({ sinceDeliveredS: 59, pending: 7 }))).toBe('RELAYING');
    expect(statusLabel(healthySnapshot({ state: 'draining', ingestFailingS: 9 }))).toBe('DRAINING');
  });

  it('fits the width: drops the least telling numbers, keeps both ends of the error', () => {
    const error =
      'upload: UND_ERR_CONNECT_TIMEOUT: Connect Timeout Error (attempted address: ingest.example.com:443, timeout: 10000ms)';
    const s = healthySnapshot({ ingestFailingS: 40, sinceDeliveredS: 41, lastError: error, pending: 9 });
    const line = formatStatus(s, 79);
    expect(line.length).toBeLessThanOrEqual(79);
    expect(line).toMatch(/^INGEST FAILING 40s, last delivery 41s ago \| /);
    expect(formatStatus(s, 100)).toContain('pending 9');
    expect(line).not.toContain('fps');
    expect(line).toMatch(/last error: upl.*….*10000ms\)$/);
    // Wide enough: the whole error.
    expect(formatStatus(s, 400)).toContain(`last error: ${error}`);
  });

  it('a long error on a wide terminal is not cut to a few characters', () => {
    const error = `ffmpeg ended (exit code 1): [rtsp @ 0x55d] method DESCRIBE failed: 401 Unauthorized`;
    const line = formatStatus(healthySnapshot({ lastError: error }), 160);
    expect(line).toContain(error);
  });

  it('masks URL passwords in the error', () => {
    const line = formatStatus(healthySnapshot({ lastError: 'rtsp://admin:hunter2@cam/x refused' }), 200);
    expect(line).not.toContain('hunter2');
  });

  it('squeeze keeps a third of the start and the rest of the end', () => {
    expect(squeeze('abcdefghijklmnopqrstuvwxyz', 10)).toBe('abc…uvwxyz');
    expect(squeeze('short', 10)).toBe('short');
  });
});
