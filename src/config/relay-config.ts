import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { type Codec, type Encoder, HARDWARE_ENCODERS, type Resolution } from '../camera/ffmpeg-args.js';
import { parseSource, type Source } from '../camera/source.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { oneOf, parseDurationMs, parseHttpUrl, parsePositive, parseResolution } from './parse.js';

/** Every default in one place (README's CLI reference mirrors this). */
export const RELAY_DEFAULTS = {
  cloud: 'https://trio-relay.machinefi.com',
  fps: 1,
  segmentDuration: 10,
  codec: 'h264',
  encoder: 'libx264',
  maxSpoolMb: 512,
  uploadTimeout: '30s',
  uploadConcurrency: 1,
  retryBase: '1s',
  retryMax: '60s',
  retryAfterMax: '300s',
  // ffmpeg stop (≤2 s) + drain + DELETE (≤1 s) fit docker stop's 10 s.
  drainTimeout: '6s',
  staleAfter: '1h',
  ioTimeout: '10s',
  maxRestartsFinite: 5,
} as const;

/** Raw flags as yargs hands them over (strings and numbers, before validation). */
export interface RelayFlags {
  cloud?: string;
  source?: string;
  cameraId?: string;
  name?: string;
  token?: string;
  tokenFile?: string;
  resolution?: string;
  fps?: number | string;
  segmentDuration?: number | string;
  codec?: string;
  encoder?: string;
  ffmpeg?: string;
  spoolDir?: string;
  maxSpoolMb?: number | string;
  uploadTimeout?: number | string;
  uploadConcurrency?: number | string;
  retryBase?: number | string;
  retryMax?: number | string;
  retryAfterMax?: number | string;
  drainTimeout?: number | string;
  staleAfter?: number | string;
  ioTimeout?: number | string;
  stallTimeout?: number | string;
  maxRestarts?: number | string;
  verbose?: boolean;
  json?: boolean;
}

/** The validated, frozen settings of one relay run. */
export interface RelayConfig {
  readonly cloud: string;
  readonly source: Source;
  readonly cameraId: string | undefined;
  readonly name: string | undefined;
  readonly token: string;
  readonly resolution: Resolution | undefined;
  readonly fps: number;
  readonly segmentDurationS: number;
  readonly codec: Codec;
  readonly encoder: Encoder;
  readonly ffmpeg: string | undefined;
  readonly spoolDir: string;
  readonly maxSpoolBytes: number;
  readonly uploadTimeoutMs: number;
  readonly uploadConcurrency: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retryAfterMaxMs: number;
  readonly drainTimeoutMs: number;
  readonly staleAfterMs: number;
  readonly ioTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly maxRestarts: number;
  readonly verbose: boolean;
  readonly json: boolean;
}

/** Flags + env → validated config. Throws ConfigError (exit 2) before anything starts. */
export function resolveRelayConfig(flags: RelayFlags, env: NodeJS.ProcessEnv = process.env): RelayConfig {
  if (!flags.source)
    throw new ConfigError('--source is required (an rtsp:// URL, a file, /dev/videoN or testsrc)');
  const source = parseSource(flags.source);
  const segmentDurationS = parsePositive(
    'segment-duration',
    flags.segmentDuration ?? RELAY_DEFAULTS.segmentDuration,
    {
      max: 600,
    },
  );
  const token = resolveToken(flags, env);
  registerSecret(token);
  const stallDefault = `${Math.max(3 * segmentDurationS, 3)}s`;
  const live = source.kind === 'rtsp' || source.kind === 'http';
  const config: RelayConfig = {
    cloud: parseHttpUrl('cloud', flags.cloud ?? RELAY_DEFAULTS.cloud),
    source,
    cameraId: flags.cameraId === undefined ? undefined : parseCameraId(flags.cameraId),
    name: flags.name,
    token,
    resolution: flags.resolution === undefined ? undefined : parseResolution(flags.resolution),
    fps: parsePositive('fps', flags.fps ?? RELAY_DEFAULTS.fps, { max: 120 }),
    segmentDurationS,
    codec: oneOf('codec', flags.codec ?? RELAY_DEFAULTS.codec, ['h264', 'copy'] as const),
    encoder: oneOf('encoder', flags.encoder ?? RELAY_DEFAULTS.encoder, [
      'libx264',
      ...HARDWARE_ENCODERS,
    ] as const),
    ffmpeg: flags.ffmpeg,
    spoolDir: checkSpoolDir(flags.spoolDir ?? tmpdir()),
    maxSpoolBytes: parsePositive('max-spool-mb', flags.maxSpoolMb ?? RELAY_DEFAULTS.maxSpoolMb) * 1024 * 1024,
    uploadTimeoutMs: parseDurationMs('upload-timeout', flags.uploadTimeout ?? RELAY_DEFAULTS.uploadTimeout),
    uploadConcurrency: parsePositive(
      'upload-concurrency',
      flags.uploadConcurrency ?? RELAY_DEFAULTS.uploadConcurrency,
      {
        integer: true,
        max: 16,
      },
    ),
    retryBaseMs: parseDurationMs('retry-base', flags.retryBase ?? RELAY_DEFAULTS.retryBase),
    retryMaxMs: parseDurationMs('retry-max', flags.retryMax ?? RELAY_DEFAULTS.retryMax),
    retryAfterMaxMs: parseDurationMs('retry-after-max', flags.retryAfterMax ?? RELAY_DEFAULTS.retryAfterMax),
    drainTimeoutMs: parseDurationMs('drain-timeout', flags.drainTimeout ?? RELAY_DEFAULTS.drainTimeout, {
      allowZero: true,
    }),
    staleAfterMs: parseDurationMs('stale-after', flags.staleAfter ?? RELAY_DEFAULTS.staleAfter),
    ioTimeoutMs: parseDurationMs('io-timeout', flags.ioTimeout ?? RELAY_DEFAULTS.ioTimeout),
    stallTimeoutMs: parseDurationMs('stall-timeout', flags.stallTimeout ?? stallDefault),
    maxRestarts:
      flags.maxRestarts === undefined
        ? live
          ? Number.POSITIVE_INFINITY
          : RELAY_DEFAULTS.maxRestartsFinite
        : parseMaxRestarts(flags.maxRestarts),
    verbose: flags.verbose ?? false,
    json: flags.json ?? false,
  };
  return Object.freeze(config);
}

function parseMaxRestarts(value: number | string): number {
  if (value === 'unlimited' || value === 'inf') return Number.POSITIVE_INFINITY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`--max-restarts ${value}: expected 0 or more, or "unlimited"`);
  return n;
}

function parseCameraId(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value)) {
    throw new ConfigError(`--camera-id ${value}: expected up to 128 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

/** --token, else --token-file, else TRIO_TOKEN: the last two keep it out of `ps`. */
function resolveToken(flags: RelayFlags, env: NodeJS.ProcessEnv): string {
  let token = flags.token;
  if (token !== undefined && flags.tokenFile !== undefined) {
    throw new ConfigError('pass either --token or --token-file, not both');
  }
  if (flags.tokenFile !== undefined) {
    try {
      token = readFileSync(flags.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(
        `--token-file ${flags.tokenFile}: cannot read it (${(error as NodeJS.ErrnoException).code})`,
      );
    }
    if (!token) throw new ConfigError(`--token-file ${flags.tokenFile} is empty`);
  }
  token ??= env.TRIO_TOKEN;
  if (!token) throw new ConfigError('no API token: pass --token, --token-file FILE or set TRIO_TOKEN');
  if (/[\r\n]/.test(token)) throw new ConfigError('the API token must be a single line');
  return token;
}

/** The spool root must be (or become) a writable directory; we never delete anything here. */
export function checkSpoolDir(dir: string): string {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (!statSync(path).isDirectory()) throw new Error('not a directory');
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`--spool-dir ${path}: not a writable directory (${reason})`);
  }
  return path;
}
