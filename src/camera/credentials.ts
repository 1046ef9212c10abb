import { registerSecret } from '../redact.js';

/**
 * `url` with `user` and `password` as its userinfo, each percent-encoded (ffmpeg decodes them),
 * replacing any userinfo it had: for a stream URL that came without credentials (an ONVIF
 * answer, a --source given with --user). The password is registered as a secret first, so the
 * result can be logged only masked. Without a user, `url` as it is.
 */
export function withCredentials(url: string, user: string | undefined, password: string | undefined): string {
  if (user === undefined) return url;
  registerSecret(password);
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) throw new TypeError('withCredentials: not an absolute URL');
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const userinfo =
    password === undefined
      ? encodeURIComponent(user)
      : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `${scheme}${userinfo}@${hostPort}${rest}`;
}

/** True when `url` already holds a user (and maybe a password) before its host. */
export function hasUserinfo(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/is.test(url);
}

/**
 * The host of a URL as the credentials' owner is named: lower case, without IPv6 brackets or a
 * trailing dot, no port (the RTSP and ONVIF ports of one camera differ). Undefined when `url`
 * does not parse.
 */
export function credentialHost(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url.trim()).hostname;
  } catch {
    return undefined;
  }
  return normalizeHost(host);
}

/** `Cam.Local.` → `cam.local`, `[::1]` → `::1`: one spelling to compare hosts by. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Whether credentials may go to `url`: only to a host the operator named (`trusted`, already
 * normalized). A URL a device hands back (an ONVIF media service, a stream URI) may point
 * anywhere; the camera's password must not follow it there.
 */
export function mayCarryCredentials(url: string, trusted: readonly string[]): boolean {
  const host = credentialHost(url);
  return host !== undefined && host !== '' && trusted.includes(host);
}

/**
 * `rtsp://admin:pw@cam/1` → `rtsp://cam/1`: everything between `://` and the LAST `@` goes
 * (the rule redaction uses: a raw `/` or `@` in a password cannot keep part of it in). Text
 * without `scheme://…@` is returned as it is.
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/).*@/is, '$1');
}
