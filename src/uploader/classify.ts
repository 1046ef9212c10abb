import { DEADLINE_CODE, type HttpOutcome } from './transport.js';

/** What the uploader does with a segment after one attempt. */
export interface TransientVerdict {
  readonly class: 'transient';
  readonly reason: string;
  readonly retryAfterMs?: number | undefined;
  /** The connection failed, or nothing answered by the deadline: the ingest may be away. */
  readonly unreachable: boolean;
}

export type Verdict =
  | { readonly class: 'ok' }
  | TransientVerdict
  | { readonly class: 'auth'; readonly status: number }
  | { readonly class: 'reject'; readonly status: number; readonly body: string }
  | { readonly class: 'unreadable'; readonly reason: string };

// Classification is data, not branches: edit these tables to change policy.
/** Statuses worth retrying besides 5xx: timeouts, too early, rate limits. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429]);
/** The key is wrong: stop the relay, keep the spool. */
export const AUTH_STATUSES: ReadonlySet<number> = new Set([401, 403]);
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
]);
/** Errors that mean the segment file itself is gone: retrying cannot help. */
export const FILE_ERROR_CODES: ReadonlySet<string> = new Set(['ENOENT', 'EISDIR', 'EACCES']);

/** Classify one HTTP exchange as SPEC's OK / TRANSIENT / FATAL (auth, or this segment only). */
export function classify(outcome: HttpOutcome, now: number = Date.now()): Verdict {
  if (outcome.kind === 'error') {
    if (FILE_ERROR_CODES.has(outcome.code))
      return { class: 'unreadable', reason: `${outcome.code}: ${outcome.message}` };
    return {
      class: 'transient',
      reason: `${outcome.code}: ${outcome.message}`,
      unreachable: UNREACHABLE_ERROR_CODES.has(outcome.code),
    };
  }
  const { status } = outcome;
  if (status >= 200 && status < 300) return { class: 'ok' };
  if (AUTH_STATUSES.has(status)) return { class: 'auth', status };
  if (status >= 500 || TRANSIENT_STATUSES.has(status)) {
    return {
      class: 'transient',
      reason: `HTTP ${status}`,
      retryAfterMs: parseRetryAfter(outcome.retryAfter, now),
      unreachable: false,
    };
  }
  if (status >= 400) return { class: 'reject', status, body: outcome.body };
  // 1xx/3xx are not part of the contract (a redirecting --cloud?): keep the segment and retry.
  return { class: 'transient', reason: `unexpected HTTP ${status} (check --cloud)`, unreachable: false };
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
