import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/backoff.js';
import { AuthError, ConfigError, ExitCode, TlsError } from '../../src/errors.js';
import { classify, fatalError, parseRetryAfter } from '../../src/uploader/classify.js';

const response = (status: number, retryAfter?: string) =>
  ({ kind: 'response', status, retryAfter, body: 'x' }) as const;

describe('classify', () => {
  it.each([
    [200, 'ok'],
    [201, 'ok'],
    [204, 'ok'],
    [401, 'auth'],
    [403, 'auth'],
    [408, 'transient'],
    [425, 'transient'],
    [429, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
    [400, 'reject'],
    [404, 'reject'],
    [413, 'reject'],
    [415, 'reject'],
    [301, 'transient'],
  ])('HTTP %i is %s', (status, expected) => {
    expect(classify(response(status)).class).toBe(expected);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ERR_DEADLINE'])(
    '%s is transient',
    (code) => {
      expect(classify({ kind: 'error', code, message: 'm' }).class).toBe('transient');
    },
  );

  it.each(['ENOENT', 'EISDIR', 'EACCES', 'EPERM'])(
    'a segment file that cannot be read (%s) is dropped',
    (code) => {
      expect(classify({ kind: 'file-error', code, message: 'm' }).class).toBe('unreadable');
    },
  );

  it.each(['EIO', 'EMFILE', 'ENFILE'])('a passing file trouble (%s) is retried', (code) => {
    expect(classify({ kind: 'file-error', code, message: 'm' }).class).toBe('transient');
  });

  it.each(['ENOENT', 'EISDIR', 'EACCES', 'EPERM', 'EIO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'UND_ERR'])(
    'a network-side %s is transient, never a dropped segment',
    (code) => {
      expect(classify({ kind: 'error', code, message: 'm' }).class).toBe('transient');
    },
  );

  it.each([
    ['CERT_HAS_EXPIRED', /renew/],
    ['CERT_NOT_YET_VALID', /clock/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /--ca-file/],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', /--ca-file/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /--ca-file/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /--ca-file/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /--cloud/],
    ['CERT_REVOKED', /replaced/],
  ])('a TLS certificate error %s is fatal, with what to do', (code, hint) => {
    const verdict = classify({ kind: 'error', code, message: 'm' });
    expect(verdict).toMatchObject({ class: 'tls', code, hint: expect.stringMatching(hint) });
    const error = fatalError(verdict, 'https://ingest.example.com:8443/api/stream/ingest/cam');
    expect(error).toBeInstanceOf(TlsError);
    expect(error!.exitCode).toBe(ExitCode.tls);
    expect(error!.message).toContain('ingest.example.com:8443');
    expect(error!.message).toContain(code);
    expect(error!.message).toMatch(hint);
  });

  it('only auth and TLS verdicts end the relay', () => {
    expect(fatalError(classify(response(401)), 'http://x/a')).toBeInstanceOf(AuthError);
    for (const status of [200, 400, 429, 503])
      expect(fatalError(classify(response(status)), 'http://x')).toBeUndefined();
    expect(
      fatalError(classify({ kind: 'error', code: 'ECONNRESET', message: 'm' }), 'http://x'),
    ).toBeUndefined();
  });

  it('a request the HTTP client refuses to build (an invalid header) is fatal, exit 2, never retried', () => {
    const verdict = classify({
      kind: 'error',
      code: 'UND_ERR_INVALID_ARG',
      message: 'invalid x-api-key header',
    });
    expect(verdict).toEqual({ class: 'unsendable', reason: 'UND_ERR_INVALID_ARG: invalid x-api-key header' });
    const error = fatalError(verdict, 'http://127.0.0.1:9/api/stream/ingest/cam');
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.exitCode).toBe(ExitCode.badInput);
    expect(error!.message).toMatch(
      /cannot be sent \(UND_ERR_INVALID_ARG: invalid x-api-key header\): check the API key/,
    );
  });

  it('honours Retry-After in seconds and as a date', () => {
    expect(classify(response(429, '7'))).toMatchObject({ class: 'transient', retryAfterMs: 7000 });
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const policy = { baseMs: 1000, capMs: 60_000, retryAfterCapMs: 300_000 };

  it('grows exponentially under full jitter, up to the cap', () => {
    expect(backoffDelay(policy, 1, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 4, undefined, () => 1)).toBe(8000);
    expect(backoffDelay(policy, 30, undefined, () => 1)).toBe(60_000);
    expect(backoffDelay(policy, 4, undefined, () => 0)).toBe(0);
  });

  it('uses Retry-After, capped', () => {
    expect(backoffDelay(policy, 1, 5000)).toBe(5000);
    expect(backoffDelay(policy, 1, 3_600_000)).toBe(300_000);
  });
});
