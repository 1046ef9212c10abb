import { describe, expect, it } from 'vitest';
import {
  type FaultRule,
  FaultSpecError,
  formatFaultRule,
  parseFaultSpec,
} from '../../src/ingest-server/faults.js';

const forever = Number.POSITIVE_INFINITY;

describe('parseFaultSpec', () => {
  it.each<[string, FaultRule]>([
    ['503x5', { kind: 'status', status: 503, count: 5 }],
    ['429x3:retry-after=2', { kind: 'status', status: 429, count: 3, retryAfterS: 2 }],
    ['401', { kind: 'status', status: 401, count: forever }],
    ['401:after=30s', { kind: 'status', status: 401, count: forever, afterMs: 30_000 }],
    ['every3:500', { kind: 'every', n: 3, status: 500 }],
    ['every2:503:retry-after=1', { kind: 'every', n: 2, status: 503, retryAfterS: 1 }],
    ['hangx2', { kind: 'hang', count: 2 }],
    ['hang', { kind: 'hang', count: forever }],
    ['resetx2', { kind: 'reset', count: 2 }],
    ['down:60s', { kind: 'down', forMs: 60_000 }],
    ['down', { kind: 'down' }],
    ['down:1.5m:after=500ms', { kind: 'down', forMs: 90_000, afterMs: 500 }],
    // The flags' duration grammar (config/parse.ts readDurationMs), days included.
    ['down:1d', { kind: 'down', forMs: 86_400_000 }],
    ['  HANGx1:after=2  ', { kind: 'hang', count: 1, afterMs: 2_000 }],
    ['500x1:after=1h', { kind: 'status', status: 500, count: 1, afterMs: 3_600_000 }],
    ['503:camera=Cam-2', { kind: 'status', status: 503, count: forever, camera: 'Cam-2' }],
    ['every2:500:CAMERA=yard', { kind: 'every', n: 2, status: 500, camera: 'yard' }],
    ['hangx1:camera=a.b_c', { kind: 'hang', count: 1, camera: 'a.b_c' }],
  ])('%s', (spec, rule) => {
    expect(parseFaultSpec(spec)).toEqual(rule);
    expect(parseFaultSpec(formatFaultRule(rule))).toEqual(rule); // formatting reads back the same
  });

  it.each([
    ['explode', /unknown fault "explode"/],
    ['', /empty/],
    ['503x', /count "" is not a whole number/],
    ['503x0', /count "0" is not a whole number/],
    ['503xlots', /count "lots"/],
    ['200', /status "200" is not an HTTP error status/],
    ['5030', /status "5030"/],
    ['every0:500', /count "0"/],
    ['every3', /every3 needs a status, e.g. every3:500/],
    ['every3:204', /status "204"/],
    ['503x5:extra', /unexpected "extra" after the status/],
    ['429:retry-after=soon', /retry-after "soon" is not a whole number of seconds/],
    ['hangx2:retry-after=1', /retry-after= applies only to status and every rules/],
    ['hangx2:bogus=1', /unknown option "bogus"/],
    ['down:forever', /down "forever" is not a duration/],
    ['down:1s:2s', /unexpected "2s" after down/],
    ['503:after=soon', /after "soon" is not a duration/],
    ['503:after=1s:after=2s', /option "after" given twice/],
    ['503:camera=', /camera= needs a camera id/],
    ['down:10s:camera=yard', /camera= does not apply to down/],
    ['503:camera=a:camera=b', /option "camera" given twice/],
  ])('rejects %j', (spec, message) => {
    let error: unknown;
    try {
      parseFaultSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FaultSpecError);
    expect(error).toMatchObject({ code: 'ERR_BAD_FAULT_SPEC', spec, name: 'FaultSpecError' });
    expect((error as Error).message).toMatch(message);
    // Every message quotes the spec and shows what a good one looks like.
    expect((error as Error).message).toContain(`bad fault spec "${spec}"`);
    expect((error as Error).message).toContain('e.g. 503x5');
  });
});
