import {
  credentialHost,
  mayCarryCredentials,
  normalizeHost,
  withCredentials,
} from '../camera/credentials.js';
import { ConfigError, OnvifError } from '../errors.js';
import { redactUrl, registerSecret } from '../redact.js';
import {
  DEFAULT_ONVIF_PORT,
  DEFAULT_ONVIF_TIMEOUT_MS,
  type DiscoveryTarget,
  WS_DISCOVERY_TARGET,
} from './defaults.js';
import { clockOffsetMs, deviceInformation, mediaServiceUrl } from './device.js';
import { type ProbeMatch, wsDiscoveryProbe } from './discovery.js';
import { describeProfile, getProfiles, getStreamUri, type OnvifProfile, pickProfile } from './media.js';
import { deviceName, type SoapCallOptions } from './soap.js';
import type { OnvifCredentials } from './wssecurity.js';

export type { DiscoveryTarget, OnvifProfile, ProbeMatch };
export { DEFAULT_ONVIF_PORT, DEFAULT_ONVIF_TIMEOUT_MS, describeProfile, WS_DISCOVERY_TARGET };

export interface OnvifSourceOptions {
  /** A host name or address, or a device service URL (`http://10.0.0.5:8000/onvif/device_service`, as discovery gives). */
  readonly host: string;
  /** @default 80, or the port of a `host` URL */
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** A profile token or name. @default the device's first (main) profile */
  readonly profile?: string | undefined;
  /** @default DEFAULT_ONVIF_TIMEOUT_MS */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * Hosts besides `host` the credentials may go to, when the device's answers point there
   * (`--allow-credentials-to`). @default none
   */
  readonly allowCredentialsTo?: readonly string[] | undefined;
}

export interface OnvifSource {
  /** The profile's RTSP URL, with user and password injected (percent-encoded): what ffmpeg reads. */
  readonly uri: string;
  /** The chosen profile's token. */
  readonly profile: string;
  /** Every profile of the device, in its order (for a picker, or a message). */
  readonly profiles: readonly OnvifProfile[];
}

/**
 * Ask an ONVIF device for the RTSP URL of one of its media profiles: its clock (so the
 * WS-Security digest is not refused as stale), its media service, its profiles, the stream URI.
 * The password is registered as a secret before any request. Errors are OnvifError: ERR_ONVIF_AUTH
 * for wrong credentials, ERR_ONVIF_PROFILE for an unknown `profile`, ERR_ONVIF_UNREACHABLE,
 * ERR_ONVIF_PROTOCOL. Aborted by `signal`, it rejects with the signal's reason.
 */
export async function resolveOnvifSource(options: OnvifSourceOptions): Promise<OnvifSource> {
  registerSecret(options.password);
  const deviceUrl = deviceServiceUrl(options.host, options.port);
  const call = soapOptions(options);
  const where = deviceName(deviceUrl);
  const clockOffset = await clockOffsetMs(deviceUrl, call);
  const signed = { ...call, clockOffsetMs: clockOffset };
  // Only the host the operator named (and those allowed by name) get the credentials, in any
  // form: the digest of the media calls, the password put into the stream URL.
  const trusted = [credentialHost(deviceUrl)!, ...(options.allowCredentialsTo ?? []).map(normalizeHost)];
  const withAccount = options.user !== undefined;
  const mediaUrl = await mediaServiceUrl(deviceUrl, signed);
  if (withAccount) refuseForeignHost(mediaUrl, 'its media service at', where, trusted);
  const profiles = await getProfiles(mediaUrl, signed);
  const profile = pickProfile(profiles, options.profile, where);
  const uri = await getStreamUri(mediaUrl, profile.token, signed);
  if (withAccount) refuseForeignHost(uri, 'the stream URL', where, trusted);
  return {
    uri: withCredentials(
      uri,
      options.user,
      options.user === undefined ? undefined : (options.password ?? ''),
    ),
    profile: profile.token,
    profiles,
  };
}

/**
 * A device may answer with any URL (a spoofed answer, a man in the middle of plain-HTTP ONVIF):
 * the camera's credentials go only to a host in `trusted`. One line naming the flag that allows
 * the host, when it really is the camera's (NAT, a name and an address of one camera).
 */
function refuseForeignHost(url: string, what: string, where: string, trusted: readonly string[]): void {
  if (mayCarryCredentials(url, trusted)) return;
  const host = credentialHost(url) ?? url;
  throw new ConfigError(
    `ONVIF device ${where} gave ${what} ${redactUrl(url)}, on host ${host}, not ${trusted[0]}: the camera's credentials are not sent there (if ${host} is this camera, add --allow-credentials-to ${host})`,
  );
}

export interface DiscoveredDevice extends ProbeMatch {
  /** `host:port` of its device service: what --host takes. */
  readonly address: string;
  readonly manufacturer?: string | undefined;
  readonly model?: string | undefined;
  /** Whether GetDeviceInformation without credentials was refused; unknown when it failed otherwise. */
  readonly credentials: 'required' | 'not required' | 'unknown';
}

export interface DiscoverOptions {
  /** @default WS_DISCOVERY_TARGET */
  readonly target?: DiscoveryTarget | undefined;
  /** How long probe answers are collected; each device is then asked once more within it. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * WS-Discovery, then one anonymous GetDeviceInformation per device: its model, and whether it
 * wants credentials. Sorted by address.
 */
export async function discoverOnvifDevices(options: DiscoverOptions): Promise<DiscoveredDevice[]> {
  const matches = await wsDiscoveryProbe({
    target: options.target,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  const devices = await Promise.all(
    matches.map(async (match): Promise<DiscoveredDevice> => {
      const address = deviceName(match.xaddrs[0]!);
      try {
        const info = await deviceInformation(
          match.xaddrs[0]!,
          soapOptions({ timeoutMs: options.timeoutMs, signal: options.signal }),
        );
        return {
          ...match,
          address,
          ...info,
          model: info.model ?? match.hardware,
          credentials: 'not required',
        };
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        const refused = error instanceof OnvifError && error.code === 'ERR_ONVIF_AUTH';
        return { ...match, address, model: match.hardware, credentials: refused ? 'required' : 'unknown' };
      }
    }),
  );
  return devices.sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
}

function soapOptions(options: {
  user?: string | undefined;
  password?: string | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}): SoapCallOptions {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ONVIF_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const credentials: OnvifCredentials | undefined =
    options.user === undefined ? undefined : { user: options.user, password: options.password ?? '' };
  return {
    credentials,
    timeoutMs,
    signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
  };
}

/**
 * `cam.local` + 8000 → `http://cam.local:8000/onvif/device_service` (the path ONVIF fixes);
 * an `http(s)://` URL is taken as it is, `port` replacing its own.
 */
export function deviceServiceUrl(host: string, port?: number): string {
  const text = host.trim();
  if (/^https?:\/\//i.test(text)) {
    const url = new URL(text);
    if (port !== undefined) url.port = String(port);
    if (url.pathname === '/') url.pathname = '/onvif/device_service';
    return url.href;
  }
  // A bare IPv6 literal gets its brackets; `host:port` its port.
  const hostPort = /^\[.*\]$|^[^:]*$/.test(text)
    ? { host: text, port: undefined }
    : /^([^:]+):(\d+)$/.exec(text)
      ? { host: text.slice(0, text.lastIndexOf(':')), port: Number(text.slice(text.lastIndexOf(':') + 1)) }
      : { host: `[${text}]`, port: undefined };
  return `http://${hostPort.host}:${port ?? hostPort.port ?? DEFAULT_ONVIF_PORT}/onvif/device_service`;
}
