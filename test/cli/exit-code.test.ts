import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/exit-code.js';
import { AuthError, CaptureError, ExitCode, RelayError, TlsError } from '../../src/errors.js';
import { type CameraOutcome, type FleetReport, failureOf } from '../../src/lifecycle/outcome.js';

const report = (cameras: CameraOutcome[], single = false): FleetReport => ({
  cameras,
  stoppedAllBy: cameras.find((c) => c.kind === 'auth-refused' || c.kind === 'ingest-untrusted') as never,
  single,
});

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('failureOf', () => {
  it('names what went wrong by the error, and wraps anything else', () => {
    expect(failureOf('a', new AuthError(401, 'http://127.0.0.1:9')).kind).toBe('auth-refused');
    expect(failureOf('a', new TlsError('127.0.0.1', 'CERT_HAS_EXPIRED', 'expired', 'renew it')).kind).toBe(
      'ingest-untrusted',
    );
    expect(failureOf('a', new CaptureError('gone')).kind).toBe('capture-failed');
    const odd = failureOf('a', 'boom');
    expect([odd.kind, odd.error.code, odd.error.message]).toEqual([
      'failed',
      'ERR_UNEXPECTED',
      'camera a: boom',
    ]);
  });
});

describe('exitCodeOf', () => {
  it('0 when every camera finished or was stopped', () => {
    expect(
      exitCodeOf(
        report([
          { camera: 'a', kind: 'finished' },
          { camera: 'b', kind: 'stopped' },
        ]),
      ),
    ).toBe(ExitCode.ok);
  });

  it("a lone camera's failure is the process's error, printed by main", () => {
    const capture = failureOf('a', new CaptureError('gone'));
    const error = thrown(() => exitCodeOf(report([capture], true)));
    expect((error as RelayError).exitCode).toBe(ExitCode.captureFailed);
  });

  it("several cameras: the first failure's code, the others keep running to their end", () => {
    const first = failureOf('a', new CaptureError('gone'));
    const second = failureOf('b', new RelayError('ERR_SPOOL', 'other'));
    expect(exitCodeOf(report([{ camera: 'c', kind: 'stopped' }, first, second]))).toBe(
      ExitCode.captureFailed,
    );
  });

  it('a failure shared by all (the key) is thrown, whatever the others did', () => {
    const refused = failureOf('b', new AuthError(401, 'http://127.0.0.1:9'));
    const error = thrown(() => exitCodeOf(report([failureOf('a', new CaptureError('gone')), refused])));
    expect((error as RelayError).exitCode).toBe(ExitCode.auth);
  });
});
