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
