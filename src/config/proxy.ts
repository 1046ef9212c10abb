import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { hideUserinfo, redactUrl, registerSecret, registerUrlSecrets } from '../redact.js';

/**
 * How the relay reaches the ingest: through which HTTP(S) proxy, or directly, and why. Decided
 * once at start (there is one --cloud per process), so `doctor` and the log can say it.
 */
export type ProxyRoute =
  | {
      readonly kind: 'proxy';
      /** The proxy's URL as given, credentials included: print it only through redactUrl. */
      readonly url: string;
      /** Where it came from: `--proxy` (or TRIO_PROXY / the config file), `HTTPS_PROXY`, `http_proxy`… */
      readonly from: string;
    }
  | { readonly kind: 'direct'; readonly why: string };

/** `--proxy none`: no proxy, whatever the environment says. */
export const NO_PROXY_VALUE = 'none';

/**
 * The route to `cloud`: --proxy (flag, TRIO_PROXY or the config file) beats the environment.
 * From the environment, as curl does: an https ingest uses `https_proxy`/`HTTPS_PROXY`, an http
 * one `http_proxy`/`HTTP_PROXY`, the lower-case spelling winning when both are set (undici
 * agrees; unlike undici, HTTP_PROXY is not used for an https ingest). `no_proxy`/`NO_PROXY`
 * applies to either, as curl's does. Loopback is not bypassed by itself (curl and undici do not
 * either): list it in NO_PROXY for a local ingest. Throws ConfigError (exit 2) on a bad proxy URL.
 */
export function resolveProxyRoute(
  cloud: string,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): ProxyRoute {
  for (const name of PROXY_VARIABLES) if (env[name]) registerProxySecrets(env[name]);
  const target = new URL(cloud);
  const https = target.protocol === 'https:';
  if (flag !== undefined && flag.trim() === NO_PROXY_VALUE)
    return { kind: 'direct', why: `--proxy ${NO_PROXY_VALUE}` };
  const names = https ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const fromEnv = names.find((name) => env[name]);
  let chosen: { url: string; from: string } | undefined;
  if (flag !== undefined) chosen = { url: flag.trim(), from: '--proxy' };
  else if (fromEnv) chosen = { url: env[fromEnv]!.trim(), from: fromEnv };
  if (!chosen)
    return { kind: 'direct', why: `no proxy set (${names[1]}, ${names[0]} and --proxy are unset)` };
  const url = parseProxyUrl(chosen.from, chosen.url);
  const noProxyName = ['no_proxy', 'NO_PROXY'].find((name) => env[name] !== undefined && env[name] !== '');
  if (noProxyName) {
    const entry = matchNoProxy(env[noProxyName]!, target.hostname, effectivePort(target));
    if (entry !== undefined) return { kind: 'direct', why: `${noProxyName} lists ${entry}` };
  }
  return { kind: 'proxy', url, from: chosen.from };
}

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

/** The proxy's password, and the Basic credentials made of it, never printed. */
function registerProxySecrets(url: string): void {
  registerUrlSecrets(url);
  try {
    const { username, password } = new URL(url);
    if (password) {
      const pair = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`;
      registerSecret(Buffer.from(pair).toString('base64'));
    }
  } catch {
    // does not parse: refused by parseProxyUrl, the raw password is registered
  }
}

/**
 * An http:// or https:// proxy URL with a host, no path, query or fragment. Without a scheme
 * (`proxy.corp:3128`, common in HTTPS_PROXY) it is http://, as curl takes it.
 */
function parseProxyUrl(from: string, given: string): string {
  const value = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  registerProxySecrets(value);
  const label = from.startsWith('--') ? `${from} ` : `${from}=`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `${label}${hideUserinfo(given)}: not a valid URL (expected e.g. http://proxy.example.com:3128, or "${NO_PROXY_VALUE}")`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `${label}${redactUrl(value)}: expected an http:// or https:// proxy (the relay speaks HTTP CONNECT to it)`,
    );
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new ConfigError(`${label}${redactUrl(value)}: expected no path, query or fragment`);
  }
  return value;
}

function effectivePort(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}

/**
 * The NO_PROXY entry that matches `hostname:port`, if any. Entries are separated by commas or
 * spaces: `*` (every host), a host name (also its subdomains; a leading `.` or `*.` is the
 * same), an IP address, a CIDR block (curl ≥ 7.86), each optionally with `:port`. IPv6 with or
 * without brackets.
 */
export function matchNoProxy(noProxy: string, hostname: string, port: number): string | undefined {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return entry;
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (name.includes('/') ? inCidr(host, name) : hostMatches(host, name)) return raw.trim();
  }
  return undefined;
}

function splitPort(entry: string): { name: string; entryPort: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1]!, entryPort: portOf(bracketed[2]) };
  // A bare IPv6 address (several colons) carries no port.
  if ((entry.match(/:/g) ?? []).length > 1) return { name: entry, entryPort: undefined };
  const m = /^(.+):(\d+)$/.exec(entry);
  return m ? { name: m[1]!, entryPort: portOf(m[2]) } : { name: entry, entryPort: undefined };
}

function portOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

function hostMatches(host: string, name: string): boolean {
  const bare = name.replace(/^\*?\./, '');
  if (isIP(bare) !== 0) return host === bare;
  return host === bare || host.endsWith(`.${bare}`);
}

function inCidr(host: string, cidr: string): boolean {
  const [address, bits] = cidr.split('/');
  const family = isIP(address ?? '');
  const hostFamily = isIP(host);
  if (family === 0 || hostFamily !== family || !/^\d+$/.test(bits ?? '')) return false;
  const list = new BlockList();
  try {
    list.addSubnet(address!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}
