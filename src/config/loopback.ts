import { isIP } from 'node:net';

/**
 * Whether a host is this machine by definition, whatever DNS says: `localhost` and its subdomains
 * (RFC 6761 reserves them for loopback), 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6 in
 * either spelling (`::ffff:127.0.0.2`, or `::ffff:7f00:2` as WHATWG URL writes it). Brackets
 * around an IPv6 address are allowed. One rule for the relay's plain-http --cloud and the ingest
 * server's token-less --host.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) !== 6) return false;
  return host === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(host);
}
