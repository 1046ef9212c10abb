import { describe, expect, it } from 'vitest';
import { cameraReadiness, combineReadiness, type ReadinessLimits } from '../../src/telemetry/readiness.js';
import { healthySnapshot } from './snapshot.js';

const limits: ReadinessLimits = { cameraDownAfterS: 30, maxBacklogS: 60, spoolNearRatio: 0.9 };
const codes = (overrides: Parameters<typeof healthySnapshot>[0]) =>
  cameraReadiness('cam-1', healthySnapshot(overrides), limits).reasons.map((r) => r.code);

describe('readiness', () => {
  it('is ready while segments close and get delivered and the backlog is young', () => {
    expect(cameraReadiness('cam-1', healthySnapshot(), limits)).toEqual({
      camera: 'cam-1',
      ready: true,
      reasons: [],
    });
    expect(codes({ backlogAgeS: 60, sinceClosedS: 30 })).toEqual([]);
  });

  it('camera down: no segment closed for longer than the limit, since the last one or the start', () => {
    const { reasons } = cameraReadiness('cam-1', healthySnapshot({ sinceClosedS: 31 }), limits);
    expect(reasons).toEqual([
      { camera: 'cam-1', code: 'camera-down', message: 'no segment closed for 31 s (limit 30 s)' },
    ]);
    expect(codes({ closedAny: false, deliveredAny: false, sinceClosedS: 45 })).toEqual(['camera-down']);
  });

  it('ingest failing: the last exchange failed, with how long and why', () => {
    const { ready, reasons } = cameraReadiness(
      'cam-1',
      healthySnapshot({ ingestFailingS: 12.4, lastError: 'upload: ECONNREFUSED' }),
      limits,
    );
    expect(ready).toBe(false);
    expect(reasons[0]).toMatchObject({
      code: 'ingest-failing',
      message: 'the ingest has been failing for 12 s: upload: ECONNREFUSED',
    });
  });

  it('backlog age over the limit, and a spool past 90 % of its bound', () => {
    expect(codes({ backlogAgeS: 61 })).toEqual(['backlog-age']);
    expect(codes({ spoolUsedBytes: 0.91 * 512 * 1048576 })).toEqual(['spool-near-bound']);
    expect(codes({ spoolUsedBytes: 0.89 * 512 * 1048576 })).toEqual([]);
  });

  it('lists every reason at once', () => {
    expect(
      codes({ sinceClosedS: 100, ingestFailingS: 100, backlogAgeS: 100, spoolUsedBytes: 512 * 1048576 }),
    ).toEqual(['camera-down', 'ingest-failing', 'backlog-age', 'spool-near-bound']);
  });

  it('starting until a segment is closed and delivered; stopping once draining', () => {
    expect(codes({ closedAny: false, deliveredAny: false, sinceClosedS: 5, backlogAgeS: 0 })).toEqual([
      'starting',
    ]);
    expect(codes({ deliveredAny: false })).toEqual(['starting']);
    expect(codes({ state: 'draining' })).toEqual(['stopping']);
    expect(codes({ state: 'failed', ingestFailingS: 5 })).toEqual(['stopping']);
  });

  it('several cameras: ready only when all are, and no camera yet is not ready', () => {
    const ok = cameraReadiness('a', healthySnapshot(), limits);
    const down = cameraReadiness('b', healthySnapshot({ sinceClosedS: 99 }), limits);
    expect(combineReadiness([ok]).ready).toBe(true);
    expect(combineReadiness([ok, down])).toEqual({
      ready: false,
      reasons: down.reasons,
      cameras: [ok, down],
    });
    expect(combineReadiness([ok, down]).cameras.map((c) => [c.camera, c.ready])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(combineReadiness([])).toMatchObject({
      ready: false,
      reasons: [{ code: 'starting' }],
      cameras: [],
    });
  });
});
