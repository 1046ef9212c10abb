import { resolve } from 'node:path';
import { type FaultRule, validateFaultRule } from './faults.js';

export interface IngestServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port; `down`/`up` faults keep whichever port was bound. */
  port: number;
  /** Where segments, `camera.json` and `ledger.jsonl` go, one folder per camera. */
  outDir: string;
  /** When set (non-empty), every request needs `X-API-Key: <token>`. Never logged or stored. */
  token?: string | undefined;
  /** Larger segment bodies get 413. @default 256 MiB */
  maxBodyBytes?: number;
  /**
   * Read request bodies no faster than this many bytes per second, all connections together
   * (a slow uplink, for drain benchmarks). @default unlimited
   */
  readRateBytesPerS?: number | undefined;
  /** Fault rules in force from the start (see `parseFaultSpec` for the CLI form). */
  faults?: readonly FaultRule[];
  /** One human line per request (segment, registration, session end). */
  log?: (line: string) => void;
  /** Serve https with this PEM certificate (chain) and key, e.g. to try --ca-file against it. */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** A connection that has not sent its whole request head by then is closed. @default 10 s */
  headersTimeoutMs?: number;
  /** A request body that sends nothing for this long is dropped (slow-body clients). @default 30 s */
  bodyTimeoutMs?: number;
  /** A whole request (head and body) must arrive within this. @default 10 min, the relay's longest deadline */
  requestTimeoutMs?: number;
  /** Keep the stored segments under this many bytes, removing the oldest first. @default unlimited */
  maxStoreBytes?: number | undefined;
  /** Refuse (422) a body that is not MPEG-TS (a sync byte every 188 bytes). @default true */
  checkContent?: boolean;
  /** Allow listening beyond loopback with no token: anyone who reaches it may upload. @default false */
  insecure?: boolean;
  /** Cameras it keeps state for; a new one past this gets 507 (the relay retries). @default 1000 */
  maxCameras?: number;
  /** Open connections at once; more are dropped as they arrive. @default 500 */
  maxConnections?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_CAMERAS = 1_000;
export const DEFAULT_MAX_CONNECTIONS = 500;

export interface NormalizedOptions {
  readonly host: string;
  readonly port: number;
  readonly outDir: string;
  readonly token: string | undefined;
  readonly maxBodyBytes: number;
  readonly readRateBytesPerS: number | undefined;
  readonly faults: readonly FaultRule[];
  readonly log: (line: string) => void;
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxStoreBytes: number | undefined;
  readonly checkContent: boolean;
  readonly insecure: boolean;
  readonly maxCameras: number;
  readonly maxConnections: number;
}

/** Defaults in one place; each bad option gets a TypeError naming it, its value and what was expected. */
export function normalizeOptions(options: IngestServerOptions): NormalizedOptions {
  const { host = '127.0.0.1', port, outDir, token, maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = options;
  const expect = (ok: boolean, name: string, value: unknown, expected: string) => {
    if (!ok) throw new TypeError(`ingest-server option ${name}: ${String(value)} is not ${expected}`);
  };
  expect(typeof host === 'string' && host !== '', 'host', host, 'a host name or address');
  expect(Number.isInteger(port) && port >= 0 && port <= 65_535, 'port', port, 'a port number (0–65535)');
  expect(typeof outDir === 'string' && outDir !== '', 'outDir', outDir, 'a directory path');
  expect(token === undefined || typeof token === 'string', 'token', typeof token, 'a string');
  expect(
    Number.isSafeInteger(maxBodyBytes) && maxBodyBytes > 0,
    'maxBodyBytes',
    maxBodyBytes,
    'a byte count ≥ 1',
  );
  const { readRateBytesPerS } = options;
  expect(
    readRateBytesPerS === undefined || (Number.isFinite(readRateBytesPerS) && readRateBytesPerS > 0),
    'readRateBytesPerS',
    readRateBytesPerS,
    'a rate > 0 bytes/s',
  );
  expect(
    options.log === undefined || typeof options.log === 'function',
    'log',
    typeof options.log,
    'a function',
  );
  const { tls } = options;
  expect(
    tls === undefined || (Boolean(tls.cert) && Boolean(tls.key)),
    'tls',
    'without cert and key',
    'a PEM certificate and key',
  );
  const {
    headersTimeoutMs = DEFAULT_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs = DEFAULT_BODY_TIMEOUT_MS,
    requestTimeoutMs = Math.max(DEFAULT_REQUEST_TIMEOUT_MS, headersTimeoutMs),
    maxStoreBytes,
  } = options;
  const positiveMs = (name: string, value: number) =>
    expect(Number.isSafeInteger(value) && value > 0, name, value, 'a duration ≥ 1 ms');
  positiveMs('headersTimeoutMs', headersTimeoutMs);
  positiveMs('bodyTimeoutMs', bodyTimeoutMs);
  positiveMs('requestTimeoutMs', requestTimeoutMs);
  // Node refuses a head timeout longer than the whole request's.
  expect(requestTimeoutMs >= headersTimeoutMs, 'requestTimeoutMs', requestTimeoutMs, '≥ headersTimeoutMs');
  expect(
    maxStoreBytes === undefined || (Number.isSafeInteger(maxStoreBytes) && maxStoreBytes > 0),
    'maxStoreBytes',
    maxStoreBytes,
    'a byte count ≥ 1',
  );
  const { maxCameras = DEFAULT_MAX_CAMERAS, maxConnections = DEFAULT_MAX_CONNECTIONS } = options;
  expect(Number.isSafeInteger(maxCameras) && maxCameras > 0, 'maxCameras', maxCameras, 'a count ≥ 1');
  expect(
    Number.isSafeInteger(maxConnections) && maxConnections > 0,
    'maxConnections',
    maxConnections,
    'a count ≥ 1',
  );
  const faults = options.faults ?? [];
  for (const rule of faults) validateFaultRule(rule);
  return {
    host,
    port,
    outDir: resolve(outDir),
    // An empty token (say, TRIO_TOKEN='') means no token rather than "the empty key".
    token: token === '' ? undefined : token,
    maxBodyBytes,
    readRateBytesPerS,
    faults,
    log: options.log ?? (() => {}),
    tls,
    headersTimeoutMs,
    bodyTimeoutMs,
    requestTimeoutMs,
    maxStoreBytes,
    checkContent: options.checkContent ?? true,
    insecure: options.insecure ?? false,
    maxCameras,
    maxConnections,
  };
}
