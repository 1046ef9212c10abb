import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { hideUserinfo, redactUrl, registerUrlSecrets } from '../redact.js';

/** Validators shared by every subcommand: each names the flag, the value and what was expected. */

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** An accepted range; `minWhy` explains a minimum that depends on another flag. */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly minWhy?: string;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/**
 * A duration flag: plain seconds ("30", "1.5") or one number with a unit ("250ms", "30s", "5m",
 * "1h", "2d"), rounded to whole ms. No sign, exponent, hex or "Infinity": what an operator means.
 */
export function parseDurationMs(
  flag: string,
  value: unknown,
  range: Range = { min: 1, max: MAX_TIMER_MS },
): number {
  const text = String(value).trim();
  const ms = readDurationMs(text) ?? Number.NaN;
  const max = Math.min(range.max, MAX_TIMER_MS);
  // Written as a negation so that NaN (unparsable) fails it too.
  if (!(ms >= range.min && ms <= max)) {
    throw new ConfigError(
      `--${flag} ${shown(text)}: expected a duration from ${formatDurationMs(range.min)}${why(range)} to ${formatDurationMs(max)} (seconds, or with a unit: 250ms, 30s, 5m, 1h, 2d)`,
    );
  }
  return ms;
}

/**
 * The duration grammar, alone: plain seconds or one number with a unit (ms, s, m, h, d), rounded
 * to whole ms; undefined when `text` is not one. Every duration of every command reads through it.
 */
export function readDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  return m ? Math.round(Number(m[1]) * UNIT_MS[(m[2] as Unit | undefined) ?? 's']) : undefined;
}

/** Whole ms in the largest unit the duration grammar reads back exactly: 600000 → "10m". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  const units = Object.entries(UNIT_MS).sort(([, a], [, b]) => b - a);
  for (const [unit, size] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** A size flag in MB (--max-spool-mb, --max-store-mb…) → whole bytes (MiB, as every size here). */
export function parseMegabytes(
  flag: string,
  value: unknown,
  range: Range & { readonly integer?: boolean; readonly what: string },
): number {
  return Math.round(parseNumber(flag, value, range) * 1024 * 1024);
}

/** A number flag in its own unit (fps, seconds, MB, uploads): plain decimal digits only. */
export function parseNumber(
  flag: string,
  value: unknown,
  range: Range & { readonly integer?: boolean; readonly what: string },
): number {
  const text = String(value).trim();
  const pattern = range.integer ? /^\d+$/ : /^\d+(?:\.\d+)?$/;
  const n = pattern.test(text) ? Number(text) : Number.NaN;
  // Written as a negation so that NaN (unparsable) fails it too.
  if (!(n >= range.min && n <= range.max)) {
    throw new ConfigError(
      `--${flag} ${shown(text)}: expected ${range.what} from ${range.min}${why(range)} to ${range.max}`,
    );
  }
  return n;
}

function why(range: Range): string {
  return range.minWhy ? ` (${range.minWhy})` : '';
}

/** An empty value would read as a missing word in the message. */
function shown(text: string): string {
  return text === '' ? '""' : text;
}

export function parsePort(flag: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new ConfigError(`--${flag} ${String(value)}: expected a TCP port from 0 to 65535`);
  }
  return n;
}

export function parseResolution(value: string): { width: number; height: number } {
  const m = /^(\d{1,5})x(\d{1,5})$/i.exec(value.trim());
  const width = m ? Number(m[1]) : 0;
  const height = m ? Number(m[2]) : 0;
  if (!m || width < 16 || height < 16 || width > 8192 || height > 8192 || width % 2 || height % 2) {
    throw new ConfigError(
      `--resolution ${value}: expected WIDTHxHEIGHT with even sides from 16 to 8192, e.g. 1280x720`,
    );
  }
  return { width, height };
}

/** An http(s) base URL such as --cloud; returned without a trailing slash. */
export function parseHttpUrl(flag: string, value: string): string {
  registerUrlSecrets(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `--${flag} ${hideUserinfo(value)}: not a valid URL (expected e.g. https://ingest.example.com)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`--${flag} ${redactUrl(value)}: expected an http:// or https:// URL`);
  }
  if (url.search || url.hash)
    throw new ConfigError(`--${flag} ${redactUrl(value)}: must not have a query or fragment`);
  return value.replace(/\/+$/, '');
}

export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`--${flag} ${value}: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

const RATE_PREFIX = { '': 1, k: 1e3, m: 1e6, g: 1e9 } as const;

/**
 * A link rate as an operator writes it, in bytes per second: "4Mbit/s", "500kbit/s", "2MB/s",
 * "1.5Gbit/s" (decimal prefixes, in either case; `bit` or `B`).
 */
export function parseByteRate(flag: string, value: unknown): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(bit|B)\/s$/.exec(text);
  const prefix = (m?.[2] ?? '').toLowerCase() as keyof typeof RATE_PREFIX;
  const bytes = m ? (Number(m[1]) * RATE_PREFIX[prefix]) / (m[3] === 'bit' ? 8 : 1) : Number.NaN;
  // Below 1 B/s a single TS packet would take minutes: surely a typo.
  if (!(bytes >= 1 && bytes <= 1e12)) {
    throw new ConfigError(
      `--${flag} ${shown(text)}: expected a rate such as 4Mbit/s, 500kbit/s or 2MB/s (at least 1B/s)`,
    );
  }
  return bytes;
}

/** "segmentDuration" → "segment-duration": a message names the flag exactly as typed. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "segment-duration" → "segmentDuration": the config's key of a flag. */
export function camelKey(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** --max-restarts: a count of consecutive failures, or "unlimited". */
export function parseMaxRestarts(value: number | string): number {
  if (value === 'unlimited' || value === 'inf') return Number.POSITIVE_INFINITY;
  const n = /^\d+$/.test(String(value).trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new ConfigError(`--max-restarts ${value}: expected a whole number (0 or more), or "unlimited"`);
  return n;
}

/** An address to listen on: an IPv4/IPv6 literal or a host name. */
export function parseHost(flag: string, value: string): string {
  const host = value.trim().replace(/^\[(.*)\]$/, '$1');
  if (
    isIP(host) === 0 &&
    !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/.test(host)
  ) {
    throw new ConfigError(
      `--${flag} ${value}: expected an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0`,
    );
  }
  return host;
}

/** The camera name is shown in the cloud and sent at every registration: a label, not a file. */
export const MAX_NAME_LENGTH = 200;

export function parseName(value: string): string {
  const length = [...value].length;
  if (length > MAX_NAME_LENGTH) {
    throw new ConfigError(`--name: expected at most ${MAX_NAME_LENGTH} characters, got ${length}`);
  }
  return value;
}
