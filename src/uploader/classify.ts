import { AuthError, ConfigError, ProxyAuthError, type RelayError, TlsError } from '../errors.js';
import { redact } from '../redact.js';
import { DEADLINE_CODE, type HttpOutcome, PHASE_TIMEOUT_CODES } from './transport.js';

export interface TransientVerdict {
  readonly class: 'transient';
  readonly reason: string;
  readonly retryAfterMs?: number | undefined;
  /** The connection failed, or nothing answered by the deadline: the ingest may be away. */
  readonly unreachable: boolean;
  /** The status the ingest answered with, when it answered. */
  readonly status?: number | undefined;
}

/** What the uploader does with a segment after one attempt. */
export type Verdict =
  | { readonly class: 'ok' }
  | TransientVerdict
  | { readonly class: 'auth'; readonly status: number }
  /** The proxy refused our credentials: fatal, like a refused key, with its own message and code. */
  | { readonly class: 'proxy-auth'; readonly status: number; readonly reason: string }
  | { readonly class: 'tls'; readonly code: string; readonly reason: string; readonly hint: string }
  | { readonly class: 'unsendable'; readonly reason: string }
  | { readonly class: 'reject'; readonly status: number; readonly body: string }
  | { readonly class: 'unreadable'; readonly reason: string };

// Classification is data, not branches: edit these tables to change policy.
/** Statuses worth retrying besides 5xx: timeouts, too early, rate limits. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429]);
/** The key is wrong: stop the relay, keep the spool. */
export const AUTH_STATUSES: ReadonlySet<number> = new Set([401, 403]);
/**
 * A proxy's refusal of the tunnel that means our credentials are wrong: 407, or 401 as some
 * proxies (tinyproxy) answer a wrong password. Any other refusal (403 for a port it will not
 * CONNECT to, 502/503/504 when it cannot reach the ingest) is transient: the proxy may be fixed
 * or the ingest come back, and nothing is lost meanwhile.
 */
export const PROXY_AUTH_STATUSES: ReadonlySet<number> = new Set([401, 407]);
/** An HTTP answer only a proxy gives (a transparent one on the way): its credentials, not the key. */
export const PROXY_AUTH_RESPONSE_STATUSES: ReadonlySet<number> = new Set([407]);
/**
 * Errors of the connection itself, or no answer by our deadline: the ingest may be away, so the
 * retry waits for a cheap probe to answer rather than a long backoff.
 */
export const UNREACHABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  DEADLINE_CODE,
  ...Object.values(PHASE_TIMEOUT_CODES),
]);
/**
 * Codes of a segment file that cannot be opened or read (the transport's `file-error`, never a
 * network error): it is gone for good, retrying cannot help. Other file errors (EIO, EMFILE…)
 * are retried.
 */
export const FILE_GONE_CODES: ReadonlySet<string> = new Set(['ENOENT', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP']);

/**
 * The request cannot be built (undici refuses a header value, say a key with a character no
 * header carries): the same request fails the same way forever, so it is fatal, never retried.
 */
export const UNSENDABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
]);

const PRIVATE_CA = 'if it is signed by a private CA, pass --ca-file FILE (or set NODE_EXTRA_CA_CERTS)';
const EXPIRED = "renew the ingest's certificate, or check this box's clock";
const WRONG_HOST = 'the certificate is for another host name: check --cloud';
const BAD_CERT = "the ingest's certificate must be replaced";

/**
 * Certificate verification failures (OpenSSL's and Node's codes) and what the operator can do:
 * a configuration error, fatal like a wrong key, never retried in silence. Other TLS trouble (a
 * reset handshake) is a network error and transient.
 */
export const TLS_CERT_CODES: ReadonlyMap<string, string> = new Map([
  ['DEPTH_ZERO_SELF_SIGNED_CERT', PRIVATE_CA],
  ['SELF_SIGNED_CERT_IN_CHAIN', PRIVATE_CA],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', PRIVATE_CA],
  ['UNABLE_TO_GET_ISSUER_CERT', PRIVATE_CA],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', PRIVATE_CA],
  ['CERT_UNTRUSTED', PRIVATE_CA],
  ['INVALID_CA', PRIVATE_CA],
  ['CERT_HAS_EXPIRED', EXPIRED],
  ['CERT_NOT_YET_VALID', EXPIRED],
  ['ERR_TLS_CERT_ALTNAME_INVALID', WRONG_HOST],
  ['HOSTNAME_MISMATCH', WRONG_HOST],
  ['CERT_REVOKED', BAD_CERT],
  ['CERT_REJECTED', BAD_CERT],
  ['CERT_SIGNATURE_FAILURE', BAD_CERT],
  ['UNABLE_TO_DECRYPT_CERT_SIGNATURE', BAD_CERT],
  ['UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', BAD_CERT],
  ['ERROR_IN_CERT_NOT_BEFORE_FIELD', BAD_CERT],
  ['ERROR_IN_CERT_NOT_AFTER_FIELD', BAD_CERT],
  ['CERT_CHAIN_TOO_LONG', BAD_CERT],
  ['PATH_LENGTH_EXCEEDED', BAD_CERT],
  ['INVALID_PURPOSE', BAD_CERT],
]);

/** Node's and OpenSSL's own TLS error codes, beside the certificate codes of the table above. */
const TLS_LAYER_CODE = /^ERR_(TLS|SSL)_/;

/**
 * The exchange failed inside TLS: a certificate the table above names (what the relay stops on),
 * or another TLS error by its code (a handshake the ingest broke off). The connection was open
 * then: through a proxy, the tunnel to the ingest had opened. Judged by the error's code only.
 */
export function failedInTls(outcome: HttpOutcome): boolean {
  return outcome.kind === 'error' && (TLS_CERT_CODES.has(outcome.code) || TLS_LAYER_CODE.test(outcome.code));
}

/**
 * Classify one HTTP exchange as SPEC's OK / TRANSIENT / FATAL (auth, TLS or unsendable, or this segment
 * only). An error is judged by its own code, never by something deeper in its cause chain.
 */
export function classify(outcome: HttpOutcome, now: number = Date.now()): Verdict {
  if (outcome.kind === 'file-error') {
    const reason = `segment file: ${outcome.code}: ${outcome.message}`;
    return FILE_GONE_CODES.has(outcome.code)
      ? { class: 'unreadable', reason }
      : { class: 'transient', reason, unreachable: false };
  }
  if (outcome.kind === 'error') {
    if (outcome.proxyStatus !== undefined) {
      const reason = outcome.message;
      return PROXY_AUTH_STATUSES.has(outcome.proxyStatus)
        ? { class: 'proxy-auth', status: outcome.proxyStatus, reason }
        : { class: 'transient', reason, unreachable: true };
    }
    const hint = TLS_CERT_CODES.get(outcome.code);
    const reason = `${outcome.code}: ${outcome.message}`;
    if (UNSENDABLE_ERROR_CODES.has(outcome.code)) return { class: 'unsendable', reason };
    return hint === undefined
      ? { class: 'transient', reason, unreachable: UNREACHABLE_ERROR_CODES.has(outcome.code) }
      : { class: 'tls', code: outcome.code, reason, hint };
  }
  const { status } = outcome;
  if (status >= 200 && status < 300) return { class: 'ok' };
  if (AUTH_STATUSES.has(status)) return { class: 'auth', status };
  if (PROXY_AUTH_RESPONSE_STATUSES.has(status)) {
    return { class: 'proxy-auth', status, reason: `HTTP ${status} (Proxy Authentication Required)` };
  }
  if (status >= 500 || TRANSIENT_STATUSES.has(status)) {
    return {
      class: 'transient',
      reason: `HTTP ${status}`,
      retryAfterMs: parseRetryAfter(outcome.retryAfter, now),
      unreachable: false,
      status,
    };
  }
  if (status >= 400) return { class: 'reject', status, body: outcome.body };
  // 1xx/3xx are not part of the contract (a redirecting --cloud?): keep the segment and retry.
  return { class: 'transient', reason: `unexpected HTTP ${status} (check --cloud)`, unreachable: false };
}

/**
 * The error that ends the relay for a fatal verdict (the key refused, the certificate not
 * trusted), for registration and uploads alike; undefined when the verdict is not fatal.
 */
export function fatalError(verdict: Verdict, url: string): RelayError | undefined {
  if (verdict.class === 'auth') return new AuthError(verdict.status, redact(url));
  if (verdict.class === 'tls') return new TlsError(hostOf(url), verdict.code, verdict.reason, verdict.hint);
  if (verdict.class === 'proxy-auth') {
    const detail = verdict.reason.startsWith('the proxy')
      ? verdict.reason
      : `a proxy on the way to ${hostOf(url)} answered ${verdict.status}`;
    return new ProxyAuthError(verdict.status, redact(detail));
  }
  if (verdict.class === 'unsendable') {
    return new ConfigError(
      `the request to ${redact(url)} cannot be sent (${redact(verdict.reason)}): check the API key (--token, --token-file or TRIO_TOKEN) and --cloud; the spool is kept for the next run`,
    );
  }
  return undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return redact(url);
  }
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
