import { ENCODERS } from '../camera/ffmpeg-args.js';
import { type CameraEntry, MAX_DEFAULT_POOL } from '../config/fleet-config.js';
import { NO_PROXY_VALUE } from '../config/proxy.js';
import { RELAY_DEFAULTS, type RelayFlags } from '../config/relay-config.js';
import { DEFAULT_ONVIF_PORT, WS_DISCOVERY_TARGET } from '../onvif/defaults.js';
import type { SettingsTable } from './settings.js';

// The relay's option table, apart from the relay itself: `--help`, `ingest-server` and `discover`
// parse the command line without loading the fleet, undici or execa.

/** The camera password's variable, for --user (kept out of ps). */
export const CAMERA_PASSWORD_ENV = 'TRIO_CAMERA_PASSWORD';

const d = RELAY_DEFAULTS;

/**
 * Every relay setting, one per RelayFlags key: its flag, its TRIO_* variable and its config-file
 * key derive from this table (src/cli/settings.ts). Defaults are RELAY_DEFAULTS'.
 */
export const RELAY_SETTINGS = {
  source: {
    alias: 's',
    type: 'string',
    describe: 'rtsp(s):// or http(s):// URL, a file, /dev/videoN (or N), or testsrc (required)',
  },
  cloud: { type: 'string', describe: 'cloud ingest base URL', default: d.cloud },
  token: {
    alias: 't',
    type: 'string',
    describe: 'API key (prefer --token-file or TRIO_TOKEN: keeps it out of ps)',
  },
  'token-file': { type: 'string', describe: 'file holding the API key' },
  'camera-id': {
    type: 'string',
    describe: 'camera id',
    default: 'derived from this box MAC and the source',
  },
  'camera-id-derivation': {
    type: 'string',
    describe:
      "without --camera-id: no-credentials (the source's password left out of the id) or legacy (the Python relay's id, password included)",
    default: d.cameraIdDerivation,
  },
  name: { type: 'string', describe: 'camera name shown in the cloud', default: 'trio-relay <id>' },
  resolution: { alias: 'r', type: 'string', describe: 'scale to WIDTHxHEIGHT, e.g. 1280x720' },
  fps: { type: 'number', describe: 'frames per second', default: d.fps },
  'segment-duration': { type: 'number', describe: 'segment length in seconds', default: d.segmentDuration },
  codec: {
    type: 'string',
    describe: 'h264 (re-encode) or copy (pass the camera stream through)',
    default: d.codec,
  },
  audio: {
    type: 'string',
    describe: "the camera's first audio track: off, copy (AAC/MP3/AC-3 as sent) or aac (encode, e.g. G.711)",
    default: d.audio,
  },
  encoder: {
    type: 'string',
    describe: `H.264 encoder: ${ENCODERS.join(', ')}`,
    default: d.encoder,
  },
  ffmpeg: { type: 'string', describe: 'ffmpeg binary', default: 'FFMPEG_PATH, PATH, then the bundled one' },
  'spool-dir': {
    type: 'string',
    describe: 'where segments wait: a real dir of this user, not writable by others',
    default: '<temp dir>/trio-relay-<uid>',
  },
  'max-spool-mb': {
    type: 'number',
    describe: 'spool size bound; the oldest pending segment is evicted past it',
    default: d.maxSpoolMb,
  },
  'max-total-spool-mb': {
    type: 'number',
    describe:
      "one bound over all cameras' spools; past it the oldest pending segment of any camera is evicted",
    default: 'none (each camera has its --max-spool-mb)',
  },
  'upload-timeout': {
    type: 'duration',
    describe: 'hard deadline per upload request',
    default: d.uploadTimeout,
  },
  'upload-concurrency': {
    type: 'number',
    describe:
      'requests at once over all cameras; each camera gets an equal share, and above 1 per camera its segments may arrive out of order',
    default: `${d.uploadConcurrency} per camera, at most ${MAX_DEFAULT_POOL}`,
  },
  'upload-order': {
    type: 'string',
    describe:
      "fifo: each camera's oldest segment first; live-first: its newest first, then the backlog oldest first",
    default: d.uploadOrder,
  },
  'max-upload-rate': {
    type: 'string',
    describe: 'cap on the total upload rate of all cameras, e.g. 2MB/s or 16Mbit/s; live segments go first',
    default: 'no cap',
  },
  'retry-base': { type: 'duration', describe: 'first retry backoff', default: d.retryBase },
  'retry-max': { type: 'duration', describe: 'backoff cap (at least --retry-base)', default: d.retryMax },
  'retry-after-max': {
    type: 'duration',
    describe: 'longest Retry-After honoured',
    default: d.retryAfterMax,
  },
  'drain-timeout': {
    type: 'duration',
    describe: "on SIGTERM/SIGINT, the whole stop's budget: ffmpeg's last segment, uploads, session end",
    default: d.drainTimeout,
  },
  'stale-after': {
    type: 'duration',
    describe: "other cameras' dead spool dirs are removed after this",
    default: d.staleAfter,
  },
  'io-timeout': { type: 'duration', describe: 'camera socket I/O timeout', default: d.ioTimeout },
  'stall-timeout': {
    type: 'duration',
    describe: 'restart ffmpeg when no segment closes for this long',
    default: '3 segments',
  },
  'max-restarts': {
    type: 'number',
    describe: 'consecutive ffmpeg failures before exiting, or "unlimited"',
    default: `unlimited for network cameras, ${d.maxRestartsFinite} otherwise`,
  },
  'metrics-port': {
    type: 'number',
    describe: 'serve Prometheus /metrics, /healthz and /readyz on this port (0 = any free one, logged)',
    default: 'off',
  },
  'metrics-host': {
    type: 'string',
    describe: 'address the metrics port listens on',
    default: d.metricsHost,
  },
  'ready-max-backlog': {
    type: 'duration',
    describe: '/readyz fails when the oldest undelivered segment is older than this (at least 3 segments)',
    default: d.readyMaxBacklog,
  },
  'ca-file': {
    type: 'string',
    describe: 'PEM file of a private CA to trust for an https --cloud, besides the default roots',
  },
  'allow-insecure-http': {
    type: 'boolean',
    describe: 'allow an http:// --cloud that is not this machine (the API key then travels in clear)',
  },
  proxy: {
    type: 'string',
    describe: `HTTP(S) proxy to reach the ingest through, e.g. http://user:pass@proxy:3128, or "${NO_PROXY_VALUE}"`,
    default: 'HTTPS_PROXY (HTTP_PROXY for an http --cloud), unless NO_PROXY lists the ingest',
  },
  verbose: { alias: 'v', type: 'boolean', describe: 'log every segment and ffmpeg event' },
  json: { type: 'boolean', describe: 'NDJSON events on stderr instead of human output' },
  host: {
    type: 'string',
    describe:
      'ONVIF camera (host, host:port or device service URL) asked for its RTSP URL, instead of --source',
  },
  'onvif-port': { type: 'number', describe: 'ONVIF (HTTP) port of --host', default: DEFAULT_ONVIF_PORT },
  user: {
    type: 'string',
    describe: 'camera user, for --host or --discover, or put into an rtsp(s)/http(s) --source URL',
  },
  'password-file': {
    type: 'string',
    describe: `file holding the camera password of --user (or ${CAMERA_PASSWORD_ENV}): keeps it out of ps`,
  },
  profile: {
    type: 'string',
    describe: 'ONVIF media profile, by token or name',
    default: 'the first (main) one',
  },
  discover: {
    type: 'boolean',
    describe: 'find ONVIF cameras on the network and pick one and its profile (a terminal)',
  },
  'discover-address': {
    type: 'string',
    describe:
      "where --discover's WS-Discovery probe goes: a unicast ADDRESS:PORT where multicast does not pass",
    default: `${WS_DISCOVERY_TARGET.address}:${WS_DISCOVERY_TARGET.port}`,
  },
  'allow-credentials-to': {
    type: 'array',
    describe:
      "a host besides --host that may get the camera's credentials when the ONVIF camera points there (repeatable)",
    default: 'none: only the --host',
  },
} as const satisfies SettingsTable<RelayFlags>;

/** What the command line and config file said; read again on SIGHUP. */
export interface RelaySettings {
  readonly flags: RelayFlags;
  readonly cameras?: readonly CameraEntry[] | undefined;
  readonly configFile?: string | undefined;
}

/** Flags that are lists (repeatable): every value counts, camel-cased as yargs hands them over. */
const LIST_FLAGS: ReadonlySet<string> = new Set(['allowCredentialsTo', 'allow-credentials-to']);

/** A flag given twice: the last one wins, so a wrapper script can append overrides; list flags keep all. */
export function lastWins(flags: RelayFlags): RelayFlags {
  return Object.fromEntries(
    Object.entries(flags).map(([key, value]) => [
      key,
      Array.isArray(value) && !LIST_FLAGS.has(key) ? value.at(-1) : value,
    ]),
  ) as RelayFlags;
}
