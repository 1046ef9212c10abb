import { ConfigError } from '../errors.js';
import type { FileSchema } from './config-file.js';
import { camelKey } from './parse.js';
import {
  type CameraConfig,
  cameraIdOf,
  type ProcessSettings,
  type RelayConfig,
  type RelayFlags,
  resolveRelayConfig,
} from './relay-config.js';

/**
 * The keys a camera of a config file's `cameras:` list may set: what it is, and what may differ
 * from camera to camera. Everything else (cloud, token, upload pool, drain) is shared.
 */
export const CAMERA_SCHEMA = {
  id: 'string',
  source: 'string',
  name: 'string',
  codec: 'string',
  audio: 'string',
  encoder: 'string',
  fps: 'number',
  resolution: 'string',
  'segment-duration': 'number',
  'max-spool-mb': 'number',
  'stall-timeout': 'duration',
  'io-timeout': 'duration',
  'max-restarts': 'number',
  'ready-max-backlog': 'duration',
  // How to reach it, instead of (or with) `source`: an ONVIF device, the camera's user and password.
  host: 'string',
  'onvif-port': 'number',
  user: 'string',
  'password-file': 'string',
  profile: 'string',
  'allow-credentials-to': 'array',
} as const satisfies FileSchema;

/** A camera entry as read from the file: keys of CAMERA_SCHEMA, values type-checked. */
export type CameraEntry = Readonly<Record<string, unknown>>;

/** With no --upload-concurrency, the pool sends one request per camera at once, up to this many. */
export const MAX_DEFAULT_POOL = 8;

/** Everything one relay process runs: its cameras, each fully resolved, and its own settings. */
export interface FleetConfig {
  readonly cameras: readonly CameraConfig[];
  /** The pool, the HTTP agent, telemetry and output: one set for the process. */
  readonly process: ProcessSettings;
  /** One camera from --source (not a `cameras:` list): its failure is the process's error. */
  readonly single: boolean;
}

/** One camera from the flags, as the relay always ran. */
export function singleCameraFleet(config: RelayConfig): FleetConfig {
  return { cameras: [config.camera], process: config.process, single: true };
}

/**
 * Flags (+ env + file) and the file's `cameras:` list → every camera's validated config. Each
 * camera is the shared settings with its own entry's keys on top, validated by the same
 * resolveRelayConfig; a bad entry's message names the camera. Throws ConfigError (exit 2).
 */
export function resolveFleetConfig(
  flags: RelayFlags,
  cameras: readonly CameraEntry[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): FleetConfig {
  if (cameras === undefined) return singleCameraFleet(resolveRelayConfig(flags, env));
  if (flags.source !== undefined || flags.cameraId !== undefined || flags.name !== undefined) {
    const flag = flags.source !== undefined ? 'source' : flags.cameraId !== undefined ? 'camera-id' : 'name';
    throw new ConfigError(
      `--${flag} and a cameras: list in the config file are both given: put every camera in the list`,
    );
  }
  if (cameras.length === 0) throw new ConfigError('the cameras: list of the config file is empty');
  const concurrency = flags.uploadConcurrency ?? Math.min(cameras.length, MAX_DEFAULT_POOL);
  const seen = new Map<string, number>();
  const resolved = cameras.map((entry, index) => {
    const label = typeof entry.id === 'string' ? `camera "${entry.id}"` : `camera #${index + 1}`;
    if (typeof entry.id !== 'string') throw new ConfigError(`${label} of the cameras: list has no id`);
    if (typeof entry.source !== 'string') throw new ConfigError(`${label} has no source (nor an ONVIF host)`);
    const ownFlags = Object.fromEntries(
      Object.entries(entry).map(([key, value]) => [key === 'id' ? 'cameraId' : camelKey(key), value]),
    );
    let config: RelayConfig;
    try {
      config = resolveRelayConfig({ ...flags, uploadConcurrency: concurrency, ...ownFlags }, env);
    } catch (error) {
      if (!(error instanceof ConfigError) || !isEntryError(error, entry)) throw error;
      // The flag names the key: `--fps abc: …` is `fps: abc` of this camera's entry.
      throw new ConfigError(`${label}: ${error.message.replace(/^--/, '')}`, { cause: error });
    }
    const id = cameraIdOf(config.camera);
    const first = seen.get(id);
    if (first !== undefined) {
      throw new ConfigError(`${label}: the id is already camera #${first + 1}'s: every camera needs its own`);
    }
    seen.set(id, index);
    return config;
  });
  // Each entry sets camera keys only (CAMERA_SCHEMA): the process settings are the same in all.
  return { cameras: resolved.map((c) => c.camera), process: resolved[0]!.process, single: false };
}

/**
 * An error about a key the camera's own entry sets. One about a shared setting (the token, the
 * upload timeout, a top-level fps) is the same for every camera: it keeps its message, and main
 * names its source.
 */
function isEntryError(error: ConfigError, entry: CameraEntry): boolean {
  const flag = /^--([a-z][a-z0-9-]*)/.exec(error.message)?.[1];
  return flag !== undefined && (flag === 'camera-id' ? 'id' : flag) in entry;
}
