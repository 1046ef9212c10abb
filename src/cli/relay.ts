import { HARDWARE_ENCODERS } from '../camera/ffmpeg-args.js';
import { RELAY_DEFAULTS, type RelayFlags, resolveRelayConfig } from '../config/relay-config.js';
import { ExitCode } from '../errors.js';
import { runRelay } from '../lifecycle/relay.js';
import { DEFAULT_ONVIF_PORT, WS_DISCOVERY_TARGET } from '../onvif/defaults.js';
import { EventBus } from '../telemetry/events.js';
import { CAMERA_PASSWORD_ENV, resolveCameraSource } from './onvif-source.js';
import { attachOutput } from './output.js';
import type { ProcessStop } from './process-stop.js';
import type { SettingsTable } from './settings.js';
import { startTelemetry } from './telemetry.js';

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
  name: { type: 'string', describe: 'camera name shown in the cloud', default: 'trio-relay <id>' },
  resolution: { alias: 'r', type: 'string', describe: 'scale to WIDTHxHEIGHT, e.g. 1280x720' },
  fps: { type: 'number', describe: 'frames per second', default: d.fps },
  'segment-duration': { type: 'number', describe: 'segment length in seconds', default: d.segmentDuration },
  codec: {
    type: 'string',
    describe: 'h264 (re-encode) or copy (pass the camera stream through)',
    default: d.codec,
  },
  encoder: {
    type: 'string',
    describe: `H.264 encoder: libx264, ${HARDWARE_ENCODERS.join(', ')}`,
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
  'upload-timeout': {
    type: 'duration',
    describe: 'hard deadline per upload request',
    default: d.uploadTimeout,
  },
  'upload-concurrency': {
    type: 'number',
    describe: 'parallel uploads; above 1 segments may arrive out of order',
    default: d.uploadConcurrency,
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
} as const satisfies SettingsTable<RelayFlags>;

/** A stop may take --drain-timeout; past this much more the process exits anyway, spool kept. */
const STOP_SLACK_MS = 800;

export async function runRelayCommand(flags: RelayFlags, stop: ProcessStop): Promise<number> {
  const last = lastWins(flags);
  let camera: RelayFlags;
  try {
    camera = await resolveCameraSource(last, {
      signal: stop.signal,
      note: last.json ? undefined : printNote,
    });
  } catch (error) {
    // Stopped while asking an ONVIF camera: nothing started, nothing to drain.
    if (stop.signal.aborted) return ExitCode.ok;
    throw error;
  }
  const config = resolveRelayConfig(camera);
  const bus = new EventBus();
  const output = attachOutput(bus, { json: config.json, verbose: config.verbose });
  // Before capture: a metrics port in use is a bad input (exit 2) and nothing has started.
  const telemetry = await startTelemetry(config, bus);
  // Whatever a phase does, the process is gone within --drain-timeout + 1 s of the stop.
  stop.armDeadline(config.drainTimeoutMs + STOP_SLACK_MS, ExitCode.ok);
  const removeFlush = stop.onForce(() => output.close());
  try {
    return await runRelay(config, {
      bus,
      onTracker: (tracker, emit) => {
        output.onTracker(tracker, emit);
        telemetry?.watch(tracker);
      },
      stop: stop.signal,
      onForce: (callback) => stop.onForce(callback),
    });
  } finally {
    removeFlush();
    await telemetry?.close();
    output.close();
  }
}

function printNote(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A flag given twice: the last one wins, so a wrapper script can append overrides. */
export function lastWins(flags: RelayFlags): RelayFlags {
  return Object.fromEntries(
    Object.entries(flags).map(([key, value]) => [key, Array.isArray(value) ? value.at(-1) : value]),
  ) as RelayFlags;
}
