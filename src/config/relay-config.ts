import { parseCameraId, parseCameraIdDerivation } from '../camera/camera-id.js';
import { AUDIO_MODES, ENCODERS } from '../camera/ffmpeg-args.js';
import { parseSource } from '../camera/source.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { checkApiKey, tokenFromFlags } from './api-key.js';
import type { CameraConfig, ProcessSettings, RelayConfig, UploadSettings } from './camera-config.js';
import {
  flagName,
  formatDurationMs,
  oneOf,
  parseByteRate,
  parseDurationMs,
  parseHost,
  parseHttpUrl,
  parseMaxRestarts,
  parseMegabytes,
  parseName,
  parseNumber,
  parseResolution,
  type Range,
} from './parse.js';
import { resolveProxyRoute } from './proxy.js';
import { resolveSpoolDir } from './spool-dir.js';
import { checkCloudTransport, resolveExtraCa } from './tls.js';

/** Every default in one place (README's CLI reference mirrors this). */
export const RELAY_DEFAULTS = {
  cloud: 'https://trio-relay.machinefi.com',
  cameraIdDerivation: 'no-credentials',
  fps: 1,
  segmentDuration: 10,
  codec: 'h264',
  audio: 'off',
  encoder: 'libx264',
  maxSpoolMb: 512,
  uploadTimeout: '30s',
  uploadConcurrency: 1,
  uploadOrder: 'fifo',
  retryBase: '1s',
  // Nearer 10-15 s than a minute: a returning ingest is used at once (connection failures are probed).
  retryMax: '15s',
  retryAfterMax: '300s',
  // ffmpeg stop (≤2 s) + drain + DELETE (≤1 s) fit docker stop's 10 s.
  drainTimeout: '6s',
  staleAfter: '1h',
  ioTimeout: '10s',
  maxRestartsFinite: 5,
  // Metrics and health: loopback only unless asked; readiness allows a minute of backlog.
  metricsHost: '127.0.0.1',
  readyMaxBacklog: '60s',
} as const;

/** Raw flags as yargs hands them over (strings and numbers, before validation). */
export interface RelayFlags {
  cloud?: string;
  source?: string;
  cameraId?: string;
  cameraIdDerivation?: string;
  name?: string;
  token?: string;
  tokenFile?: string;
  resolution?: string;
  fps?: number | string;
  segmentDuration?: number | string;
  codec?: string;
  audio?: string;
  encoder?: string;
  ffmpeg?: string;
  spoolDir?: string;
  maxSpoolMb?: number | string;
  maxTotalSpoolMb?: number | string;
  uploadTimeout?: number | string;
  uploadConcurrency?: number | string;
  uploadOrder?: string;
  maxUploadRate?: number | string;
  retryBase?: number | string;
  retryMax?: number | string;
  retryAfterMax?: number | string;
  drainTimeout?: number | string;
  staleAfter?: number | string;
  ioTimeout?: number | string;
  stallTimeout?: number | string;
  maxRestarts?: number | string;
  metricsPort?: number | string;
  metricsHost?: string;
  readyMaxBacklog?: number | string;
  verbose?: boolean;
  json?: boolean;
  caFile?: string;
  allowInsecureHttp?: boolean;
  proxy?: string;
  // The camera by ONVIF, and its credentials: src/cli/onvif-source.ts turns these into `source`.
  host?: string;
  onvifPort?: number | string;
  user?: string;
  passwordFile?: string;
  profile?: string;
  discover?: boolean;
  discoverAddress?: string;
  /** Hosts besides --host that the camera's credentials may go to (repeatable, or comma-separated). */
  allowCredentialsTo?: string | readonly string[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type NumberBound = Range & { readonly what: string; readonly integer?: boolean };

/**
 * The accepted range of every numeric flag (README's CLI reference mirrors this): numbers in the
 * flag's own unit (`what`), durations in ms and never above MAX_TIMER_MS. Minimums that depend on
 * another flag are added in resolveRelayConfig: a segment holds at least one frame (h264),
 * --retry-max ≥ --retry-base, --stall-timeout ≥ 2 segment durations.
 */
export const RELAY_BOUNDS = {
  // ffmpeg 4.1 and 5.1 both cut 10 s segments of one frame each at 0.1 fps.
  fps: { min: 0.1, max: 120, what: 'frames per second' },
  segmentDuration: { min: 0.5, max: 600, what: 'seconds' },
  // 1 MB is a tiny test spool; 1 TiB is past any edge box's disk.
  maxSpoolMb: { min: 1, max: 1024 * 1024, what: 'MB' },
  uploadConcurrency: { min: 1, max: 16, integer: true, what: 'a whole number' },
  uploadTimeout: { min: SECOND, max: 10 * MINUTE },
  retryBase: { min: 10, max: MINUTE },
  retryMax: { min: 10, max: HOUR },
  // A Retry-After capped at 0 would retry at once: the opposite of what the ingest asked.
  retryAfterMax: { min: SECOND, max: HOUR },
  drainTimeout: { min: 0, max: 10 * MINUTE },
  // 1 s lets tests age a dir quickly; 24 days is the last whole day under MAX_TIMER_MS.
  staleAfter: { min: SECOND, max: 24 * DAY },
  ioTimeout: { min: SECOND, max: 10 * MINUTE },
  stallTimeout: { min: SECOND, max: HOUR },
  // 0 picks a free port (logged).
  metricsPort: { min: 0, max: 65_535, integer: true, what: 'a TCP port' },
  readyMaxBacklog: { min: SECOND, max: 24 * DAY },
} as const satisfies { [K in keyof RelayFlags]?: Range | NumberBound };

type BoundKey = keyof typeof RELAY_BOUNDS;
type NumberKey = { [K in BoundKey]: (typeof RELAY_BOUNDS)[K] extends NumberBound ? K : never }[BoundKey];
type DurationKey = Exclude<BoundKey, NumberKey>;

export {
  type CameraConfig,
  cameraIdOf,
  cameraNameOf,
  captureSettingsOf,
  type ProcessSettings,
  type RelayConfig,
  type UploadSettings,
} from './camera-config.js';

/** Flags + env → validated camera and process settings. Throws ConfigError (exit 2) before anything starts. */
export function resolveRelayConfig(flags: RelayFlags, env: NodeJS.ProcessEnv = process.env): RelayConfig {
  if (!flags.source)
    throw new ConfigError('--source is required (an rtsp:// URL, a file, /dev/videoN or testsrc)');
  const source = parseSource(flags.source);
  // --metrics-port has no default (off), so it is parsed on its own.
  const number = (key: Exclude<NumberKey, 'metricsPort'>, range: NumberBound = RELAY_BOUNDS[key]) =>
    parseNumber(flagName(key), flags[key] ?? RELAY_DEFAULTS[key], range);
  const duration = (key: DurationKey, fallback: string | number, range: Range = RELAY_BOUNDS[key]) =>
    parseDurationMs(flagName(key), flags[key] ?? fallback, range);

  const codec = oneOf('codec', flags.codec ?? RELAY_DEFAULTS.codec, ['h264', 'copy'] as const);
  const fps = number('fps');
  // Re-encoding at --fps, a shorter segment than one frame cannot be cut: it would close only
  // once per frame and trip the stall watchdog.
  const frameS = codec === 'h264' ? Math.ceil(1000 / fps) / 1000 : 0;
  const segmentDurationS = number(
    'segmentDuration',
    frameS > RELAY_BOUNDS.segmentDuration.min
      ? { ...RELAY_BOUNDS.segmentDuration, min: frameS, minWhy: `one frame at --fps ${fps}` }
      : RELAY_BOUNDS.segmentDuration,
  );
  const segmentMs = Math.round(segmentDurationS * SECOND);
  const retryBaseMs = duration('retryBase', RELAY_DEFAULTS.retryBase);
  // The default cap rises with a longer --retry-base rather than contradicting it.
  const defaultRetryMaxMs = Math.max(parseDurationMs('retry-max', RELAY_DEFAULTS.retryMax), retryBaseMs);
  const retryMaxMs = duration('retryMax', formatDurationMs(defaultRetryMaxMs), {
    ...RELAY_BOUNDS.retryMax,
    min: Math.max(RELAY_BOUNDS.retryMax.min, retryBaseMs),
    minWhy: '--retry-base',
  });
  // A segment closes a little after its duration: one duration would restart a healthy ffmpeg.
  const stallMin = Math.max(RELAY_BOUNDS.stallTimeout.min, 2 * segmentMs);
  const stallTimeoutMs = duration(
    'stallTimeout',
    formatDurationMs(Math.max(3 * segmentMs, 3 * SECOND)),
    stallMin > RELAY_BOUNDS.stallTimeout.min
      ? { ...RELAY_BOUNDS.stallTimeout, min: stallMin, minWhy: '2 × --segment-duration' }
      : RELAY_BOUNDS.stallTimeout,
  );
  // A healthy backlog holds a segment or two: the limit is at least 3 segments, 60 s by default.
  const backlogMin = Math.max(RELAY_BOUNDS.readyMaxBacklog.min, 2 * segmentMs);
  const readyMaxBacklogMs = duration(
    'readyMaxBacklog',
    formatDurationMs(
      Math.max(parseDurationMs('ready-max-backlog', RELAY_DEFAULTS.readyMaxBacklog), 3 * segmentMs),
    ),
    backlogMin > RELAY_BOUNDS.readyMaxBacklog.min
      ? { ...RELAY_BOUNDS.readyMaxBacklog, min: backlogMin, minWhy: '2 × --segment-duration' }
      : RELAY_BOUNDS.readyMaxBacklog,
  );
  const live = source.kind === 'rtsp' || source.kind === 'http';
  const camera = {
    cloud: parseHttpUrl('cloud', flags.cloud ?? RELAY_DEFAULTS.cloud),
    source,
    cameraId: flags.cameraId === undefined ? undefined : parseCameraId(flags.cameraId),
    cameraIdDerivation: parseCameraIdDerivation(
      flags.cameraIdDerivation ?? RELAY_DEFAULTS.cameraIdDerivation,
    ),
    name: flags.name === undefined ? undefined : parseName(flags.name),
    resolution: flags.resolution === undefined ? undefined : parseResolution(flags.resolution),
    fps,
    segmentDurationS,
    codec,
    audio: oneOf('audio', flags.audio ?? RELAY_DEFAULTS.audio, AUDIO_MODES),
    encoder: oneOf('encoder', flags.encoder ?? RELAY_DEFAULTS.encoder, ENCODERS),
    maxSpoolBytes: parseMegabytes(
      'max-spool-mb',
      flags.maxSpoolMb ?? RELAY_DEFAULTS.maxSpoolMb,
      RELAY_BOUNDS.maxSpoolMb,
    ),
    uploadTimeoutMs: duration('uploadTimeout', RELAY_DEFAULTS.uploadTimeout),
    drainTimeoutMs: duration('drainTimeout', RELAY_DEFAULTS.drainTimeout),
    staleAfterMs: duration('staleAfter', RELAY_DEFAULTS.staleAfter),
    ioTimeoutMs: duration('ioTimeout', RELAY_DEFAULTS.ioTimeout),
    stallTimeoutMs,
    maxRestarts:
      flags.maxRestarts === undefined
        ? live
          ? Number.POSITIVE_INFINITY
          : RELAY_DEFAULTS.maxRestartsFinite
        : parseMaxRestarts(flags.maxRestarts),
    readyMaxBacklogMs,
  };
  const upload: UploadSettings = {
    concurrency: number('uploadConcurrency'),
    order: oneOf('upload-order', flags.uploadOrder ?? RELAY_DEFAULTS.uploadOrder, [
      'fifo',
      'live-first',
    ] as const),
    maxRateBytesPerS:
      flags.maxUploadRate === undefined ? undefined : parseByteRate('max-upload-rate', flags.maxUploadRate),
  };
  const processSettings = {
    ffmpeg: flags.ffmpeg,
    upload: Object.freeze(upload),
    maxTotalSpoolBytes:
      flags.maxTotalSpoolMb === undefined
        ? undefined
        : parseMegabytes('max-total-spool-mb', flags.maxTotalSpoolMb, RELAY_BOUNDS.maxSpoolMb),
    retryBaseMs,
    retryMaxMs,
    retryAfterMaxMs: duration('retryAfterMax', RELAY_DEFAULTS.retryAfterMax),
    metricsPort:
      flags.metricsPort === undefined
        ? undefined
        : parseNumber('metrics-port', flags.metricsPort, RELAY_BOUNDS.metricsPort),
    metricsHost: parseHost('metrics-host', flags.metricsHost ?? RELAY_DEFAULTS.metricsHost),
    verbose: flags.verbose ?? false,
    json: flags.json ?? false,
    extraCa: resolveExtraCa(flags.caFile, env),
  };
  checkCloudTransport(camera.cloud, flags.allowInsecureHttp ?? false);
  const proxy = resolveProxyRoute(camera.cloud, flags.proxy, env);
  const token = resolveToken(flags, env);
  registerSecret(token);
  // Last: the only check that changes anything (it may create the spool root).
  const spoolDir = resolveSpoolDir(flags.spoolDir);
  return Object.freeze({
    camera: Object.freeze({ ...camera, token, spoolDir } satisfies CameraConfig),
    process: Object.freeze({ ...processSettings, proxy } satisfies ProcessSettings),
  });
}

/** --token, else --token-file, else TRIO_TOKEN: the last two keep it out of `ps`. */
function resolveToken(flags: RelayFlags, env: NodeJS.ProcessEnv): string {
  // An empty --token counts as none: TRIO_TOKEN may still give the key.
  const fromFlags = tokenFromFlags({
    ...flags,
    token: flags.token === '' && flags.tokenFile === undefined ? undefined : flags.token,
  });
  if (fromFlags !== undefined) return fromFlags;
  if (env.TRIO_TOKEN) return checkApiKey('TRIO_TOKEN', env.TRIO_TOKEN);
  throw new ConfigError('no API token: pass --token, --token-file FILE or set TRIO_TOKEN');
}
