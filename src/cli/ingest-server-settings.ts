import type { SettingsTable } from './settings.js';

/** Raw flags (and TRIO_* variables) as yargs hands them over, before validation. */
export interface IngestServerFlags {
  port?: number | string;
  host?: string;
  out?: string;
  token?: string | undefined;
  tokenFile?: string | undefined;
  insecure?: boolean | undefined;
  headersTimeout?: number | string | undefined;
  bodyTimeout?: number | string | undefined;
  maxStoreMb?: number | string | undefined;
  maxCameras?: number | string | undefined;
  maxConnections?: number | string | undefined;
  fault?: string[] | undefined;
  readRate?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

export const INGEST_SERVER_DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  out: './trio-ingest',
  headersTimeout: '10s',
  bodyTimeout: '30s',
  maxCameras: 1000,
  maxConnections: 500,
} as const;

/** `trio-relay ingest-server`'s settings (flags and TRIO_* variables): see src/cli/settings.ts. */
export const INGEST_SERVER_SETTINGS = {
  port: { type: 'number', describe: 'TCP port (0 = any free one)', default: INGEST_SERVER_DEFAULTS.port },
  host: { type: 'string', describe: 'address to listen on', default: INGEST_SERVER_DEFAULTS.host },
  out: { type: 'string', describe: 'folder for segments and ledgers', default: INGEST_SERVER_DEFAULTS.out },
  token: { type: 'string', describe: "require this X-API-Key (and for the viewer's data)", default: 'none' },
  'token-file': { type: 'string', describe: 'read the key from this file (kept out of `ps`)' },
  insecure: {
    type: 'boolean',
    describe: 'allow a non-loopback --host without a token (anyone who reaches it may upload)',
    default: 'false',
  },
  'headers-timeout': {
    type: 'duration',
    describe: 'close a connection whose request head has not arrived by then',
    default: INGEST_SERVER_DEFAULTS.headersTimeout,
  },
  'body-timeout': {
    type: 'duration',
    describe: 'drop a request whose body sends nothing for this long',
    default: INGEST_SERVER_DEFAULTS.bodyTimeout,
  },
  'max-store-mb': {
    type: 'number',
    describe:
      'keep stored segments under this many MB, removing the oldest first (a larger segment gets 413)',
    default: 'unlimited',
  },
  'max-cameras': {
    type: 'number',
    describe: 'cameras it keeps state for; a new one past this gets 507 (the relay keeps it and retries)',
    default: INGEST_SERVER_DEFAULTS.maxCameras,
  },
  'max-connections': {
    type: 'number',
    describe: 'open connections at once; more are dropped as they arrive',
    default: INGEST_SERVER_DEFAULTS.maxConnections,
  },
  fault: {
    type: 'array',
    describe: 'inject a fault (repeatable, in order), e.g. 503x5, 429x3:retry-after=2, hangx2, down:30s',
  },
  'read-rate': {
    type: 'string',
    describe: 'read segment bodies no faster than this, all connections together (a slow link), e.g. 4Mbit/s',
  },
  'tls-cert': { type: 'string', describe: 'serve https with this PEM certificate (with --tls-key)' },
  'tls-key': { type: 'string', describe: 'PEM private key of --tls-cert' },
} as const satisfies SettingsTable<IngestServerFlags>;
