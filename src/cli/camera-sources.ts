import { type CameraEntry, type FleetConfig, resolveFleetConfig } from '../config/fleet-config.js';
import { flagName } from '../config/parse.js';
import type { RelayFlags } from '../config/relay-config.js';
import { ConfigError } from '../errors.js';
import { type CameraSourceContext, resolveCameraSource } from './onvif-source.js';
import { lastWins, type RelaySettings } from './relay-settings.js';

/** A camera entry's keys that say how to reach it; resolved into its `source` here. */
const REACH_KEYS = [
  'host',
  'onvif-port',
  'user',
  'password-file',
  'profile',
  'allow-credentials-to',
] as const;

/**
 * The settings (flags, env, config file) → every camera's validated config. Before validation,
 * each camera given by ONVIF host is asked for its stream URL, and a camera `user` (with its
 * password) goes into its URL; the list's cameras are asked at once, each within its deadline.
 */
export async function resolveFleet(
  settings: RelaySettings,
  context: CameraSourceContext,
): Promise<FleetConfig> {
  const flags = lastWins(settings.flags);
  if (settings.cameras === undefined)
    return resolveFleetConfig(await resolveCameraSource(flags, context), undefined);
  const shared = ['host', 'discover', 'user', 'passwordFile', 'profile', 'onvifPort'] as const;
  const misplaced = shared.find((key) => flags[key] !== undefined);
  if (misplaced) {
    const flag = flagName(misplaced);
    throw new ConfigError(
      `--${flag} and a cameras: list are both given: set ${flag} on each camera of the list`,
    );
  }
  // --allow-credentials-to (or the file's top-level key) holds for every camera of the list.
  const allowed = flags.allowCredentialsTo;
  const cameras = await Promise.all(settings.cameras.map((entry) => resolveEntry(entry, allowed, context)));
  return resolveFleetConfig(flags, cameras);
}

async function resolveEntry(
  entry: CameraEntry,
  allowed: RelayFlags['allowCredentialsTo'],
  context: CameraSourceContext,
): Promise<CameraEntry> {
  if (!REACH_KEYS.some((key) => entry[key] !== undefined)) return entry;
  const label = typeof entry.id === 'string' ? `camera "${entry.id}"` : 'a camera of the cameras: list';
  const reach: RelayFlags = {
    source: entry.source as string | undefined,
    host: entry.host as string | undefined,
    onvifPort: entry['onvif-port'] as number | string | undefined,
    user: entry.user as string | undefined,
    passwordFile: entry['password-file'] as string | undefined,
    profile: entry.profile as string | undefined,
    allowCredentialsTo: [
      ...[allowed ?? []].flat(),
      ...[(entry['allow-credentials-to'] as string | readonly string[] | undefined) ?? []].flat(),
    ],
  };
  let resolved: RelayFlags;
  try {
    resolved = await resolveCameraSource(reach, context);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`${label}: ${error.message.replace(/^--/, '')}`, { cause: error });
  }
  const own = Object.fromEntries(
    Object.entries(entry).filter(([key]) => !(REACH_KEYS as readonly string[]).includes(key)),
  );
  return { ...own, source: resolved.source };
}
