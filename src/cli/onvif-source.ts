import { isIP } from 'node:net';
import { createInterface } from 'node:readline/promises';
import { hasUserinfo, withCredentials } from '../camera/credentials.js';
import { parseNumber } from '../config/parse.js';
import type { RelayFlags } from '../config/relay-config.js';
import { readSecretFile } from '../config/secret-file.js';
import { ConfigError, OnvifError } from '../errors.js';
import { type DiscoveryTarget, WS_DISCOVERY_TARGET } from '../onvif/defaults.js';
import type { DiscoveredDevice, OnvifProfile } from '../onvif/index.js';
import { printable } from '../printable.js';
import { redact, registerSecret } from '../redact.js';
import { CAMERA_PASSWORD_ENV } from './relay-settings.js';

/** Where the camera password may come from besides --password-file: never a flag, so never in `ps`. */
/** Loaded only for an ONVIF camera: a plain --source never pays for the client and its XML parser. */
const onvifClient = () => import('../onvif/index.js');

/** How long `--discover` listens for cameras before listing them. */
const PICK_DISCOVERY_MS = 3000;

/** The operator at a terminal, for `--discover`: tests give their own. */
export interface Prompter {
  say(line: string): void;
  ask(question: string, signal: AbortSignal): Promise<string>;
}

export interface CameraSourceContext {
  readonly signal: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Human lines about what was resolved (not with --json). */
  readonly note?: (line: string) => void;
  /** @default the terminal (stdin/stderr); refused when they are not a TTY */
  readonly prompter?: Prompter;
}

/**
 * The camera flags (--host, --discover, --user, --password-file) turned into the `source` flag
 * resolveRelayConfig takes: an ONVIF device asked for its RTSP URL, or a plain URL --source given
 * the credentials. The password is a registered secret before anything can print it.
 */
export async function resolveCameraSource(
  flags: RelayFlags,
  context: CameraSourceContext,
): Promise<RelayFlags> {
  const env = context.env ?? process.env;
  const given = [flags.source && '--source', flags.host && '--host', flags.discover && '--discover'].filter(
    Boolean,
  );
  if (given.length > 1) throw new ConfigError(`${given.join(' and ')}: give only one way to find the camera`);
  if (flags.passwordFile !== undefined && flags.user === undefined)
    throw new ConfigError(`--password-file ${flags.passwordFile} without --user: whose password is it?`);
  const password = flags.user === undefined ? undefined : readPassword(flags, env);
  registerSecret(password);

  if (flags.host === undefined && !flags.discover) {
    const onvifOnly =
      flags.onvifPort !== undefined ? '--onvif-port' : flags.profile !== undefined ? '--profile' : undefined;
    if (onvifOnly)
      throw new ConfigError(`${onvifOnly} applies to an ONVIF camera: add --host (or --discover)`);
    if (flags.user === undefined || flags.source === undefined) return flags;
    return { ...flags, source: sourceWithCredentials(flags.source, flags.user, password) };
  }
  const { describeProfile, resolveOnvifSource } = await onvifClient();
  const port =
    flags.onvifPort === undefined
      ? undefined
      : parseNumber('onvif-port', flags.onvifPort, {
          min: 1,
          max: 65_535,
          integer: true,
          what: 'a TCP port',
        });
  const allowCredentialsTo = parseAllowedHosts(flags.allowCredentialsTo);
  const host = flags.discover ? await pickDevice(flags, context, port) : { host: flags.host!, port };
  const ask = { ...host, user: flags.user, password, allowCredentialsTo, signal: context.signal };
  let resolved = await resolveOnvifSource({ ...ask, profile: flags.profile });
  if (flags.discover && flags.profile === undefined && resolved.profiles.length > 1) {
    const profile = await pickProfile(resolved.profiles, context);
    if (profile.token !== resolved.profile)
      resolved = await resolveOnvifSource({ ...ask, profile: profile.token });
  }
  const chosen = resolved.profiles.find((p) => p.token === resolved.profile)!;
  context.note?.(redact(`ONVIF ${host.host}: profile ${describeProfile(chosen)} → ${resolved.uri}`));
  return { ...flags, source: resolved.uri };
}

/** --password-file, else TRIO_CAMERA_PASSWORD, else none (an account without a password). */
function readPassword(flags: RelayFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (flags.passwordFile === undefined) return env[CAMERA_PASSWORD_ENV];
  // Only the line end an editor adds: a password may begin or end with a space.
  return readSecretFile('password-file', flags.passwordFile, { trim: false });
}

function sourceWithCredentials(source: string, user: string, password: string | undefined): string {
  if (!/^(rtsps?|https?):\/\//i.test(source.trim()))
    throw new ConfigError('--user applies to an rtsp(s):// or http(s):// --source (or to --host)');
  if (hasUserinfo(source.trim()))
    throw new ConfigError(
      '--source already holds a user: give the credentials there or with --user, not both',
    );
  return withCredentials(source.trim(), user, password);
}

/** --allow-credentials-to, repeated or comma-separated (TRIO_ALLOW_CREDENTIALS_TO=a,b): host names or addresses. */
export function parseAllowedHosts(value: string | readonly string[] | undefined): string[] {
  const hosts = (typeof value === 'string' ? [value] : (value ?? []))
    .flatMap((item) => String(item).split(','))
    .map((host) => host.trim());
  for (const host of hosts) {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare) === 0 && !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.?$/.test(host))
      throw new ConfigError(
        `--allow-credentials-to ${printable(host)}: expected a host name or address (no port, scheme or path), e.g. 192.168.1.10`,
      );
  }
  return hosts;
}

/** `239.255.255.250:3702` → its parts; an IPv4 address or host name, then a port. */
export function parseDiscoverAddress(value: string | undefined): DiscoveryTarget {
  if (value === undefined) return WS_DISCOVERY_TARGET;
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65_535)
    throw new ConfigError(`--discover-address ${value}: expected ADDRESS:PORT, e.g. 239.255.255.250:3702`);
  return { address: m[1]!, port };
}

async function pickDevice(
  flags: RelayFlags,
  context: CameraSourceContext,
  port: number | undefined,
): Promise<{ host: string; port: number | undefined }> {
  const target = parseDiscoverAddress(flags.discoverAddress);
  const prompter = context.prompter ?? terminalPrompter();
  const { discoverOnvifDevices } = await onvifClient();
  const devices = await discoverOnvifDevices({
    target,
    timeoutMs: PICK_DISCOVERY_MS,
    signal: context.signal,
  });
  if (devices.length === 0) {
    throw new OnvifError(
      'ERR_ONVIF_UNREACHABLE',
      `no ONVIF camera answered a probe to ${target.address}:${target.port} within ${PICK_DISCOVERY_MS / 1000}s (no multicast here? --discover-address ADDRESS:PORT, or --host)`,
    );
  }
  devices.forEach((device, i) => {
    prompter.say(`${i + 1}) ${describeDevice(device)}`);
  });
  const device = devices[(await choose(prompter, 'camera', devices.length, context.signal)) - 1]!;
  if (device.credentials === 'required' && flags.user === undefined)
    throw new ConfigError(
      `the ONVIF camera ${device.address} needs credentials: add --user and --password-file`,
    );
  return { host: device.xaddrs[0]!, port };
}

async function pickProfile(
  profiles: readonly OnvifProfile[],
  context: CameraSourceContext,
): Promise<OnvifProfile> {
  const prompter = context.prompter ?? terminalPrompter();
  const { describeProfile } = await onvifClient();
  profiles.forEach((profile, i) => {
    prompter.say(`${i + 1}) ${describeProfile(profile)}`);
  });
  return profiles[(await choose(prompter, 'profile', profiles.length, context.signal)) - 1]!;
}

async function choose(prompter: Prompter, what: string, count: number, signal: AbortSignal): Promise<number> {
  for (;;) {
    const answer = (await prompter.ask(`${what} [1-${count}, default 1]: `, signal)).trim();
    if (answer === '') return 1;
    const n = /^\d+$/.test(answer) ? Number(answer) : 0;
    if (n >= 1 && n <= count) return n;
    prompter.say(`pick a number from 1 to ${count}`);
  }
}

/** One line per device, for `discover` and the picker alike. */
export function describeDevice(device: DiscoveredDevice): string {
  const what = [device.manufacturer, device.model].filter(Boolean).join(' ') || 'unknown model';
  return `${device.address}  ${what}  "${device.name ?? 'unnamed'}"  credentials ${device.credentials}`;
}

function terminalPrompter(): Prompter {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new ConfigError(
      '--discover picks a camera on a terminal: without one, run `trio-relay discover` and pass --host ADDRESS',
    );
  }
  return {
    say: (line) => process.stderr.write(`${line}\n`),
    async ask(question, signal) {
      const terminal = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await terminal.question(question, { signal });
      } finally {
        terminal.close();
      }
    },
  };
}
