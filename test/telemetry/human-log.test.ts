import { describe, expect, it } from 'vitest';
import type { StampedEvent } from '../../src/telemetry/events.js';
import { humanLog } from '../../src/telemetry/human-log.js';

const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
const retry = (s: number, attempt: number): StampedEvent => ({
  type: 'segment',
  phase: 'retry',
  sequence: 7,
  attempt,
  delayMs: 1000,
  reason: 'ECONNREFUSED',
  ts: at(s),
  camera: 'cam-1',
});

describe('human log', () => {
  it('a retry that goes on is said again about once a minute, not once then silence', () => {
    const lines: string[] = [];
    const log = humanLog((line) => lines.push(line), false);
    log(retry(0, 1));
    log(retry(10, 2));
    log(retry(59, 3));
    log(retry(61, 4));
    log(retry(70, 5));
    expect(lines).toEqual([
      '00:00:00 segment 7 will be retried in 1.0 s: ECONNREFUSED',
      '00:01:01 segment 7 still failing after 4 attempts, next in 1.0 s: ECONNREFUSED',
    ]);
  });

  it("with several cameras each camera's line names it; the process's own lines do not", () => {
    const lines: string[] = [];
    let several = false;
    const log = humanLog(
      (line) => lines.push(line),
      false,
      () => several,
    );
    const state = (camera: string): StampedEvent => ({ type: 'state', state: 'relaying', ts: at(1), camera });
    log(state('cam-1'));
    several = true;
    log(state('cam-1'));
    log(state('cam-2'));
    log({ type: 'log', level: 'info', message: 'metrics on …', ts: at(2), camera: '' });
    expect(lines).toEqual([
      '00:00:01 state relaying',
      '00:00:01 [cam-1] state relaying',
      '00:00:01 [cam-2] state relaying',
      '00:00:02 metrics on …',
    ]);
  });
});
