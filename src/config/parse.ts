import { ConfigError } from '../errors.js';
import { redactUrl } from '../redact.js';

/** Validators shared by every subcommand: each names the flag, the value and what was expected. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration flag: plain seconds ("30", "1.5") or with a unit ("250ms", "30s", "5m", "1h"). */
export function parseDurationMs(flag: string, value: unknown, { allowZero = false } = {}): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || (!allowZero && ms === 0)) {
    throw new ConfigError(
      `--${flag} ${text}: expected a ${allowZero ? 'non-negative' : 'positive'} duration in seconds, or with a unit (250ms, 30s, 5m, 1h)`,
    );
  }
  return ms;
}

export function parsePositive(
  flag: string,
  value: unknown,
  { max = Number.MAX_SAFE_INTEGER, integer = false } = {},
) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw new ConfigError(
      `--${flag} ${String(value)}: expected a positive ${integer ? 'integer' : 'number'} up to ${max}`,
    );
  }
  return n;
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
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `--${flag} ${redactUrl(value)}: not a valid URL (expected e.g. https://ingest.example.com)`,
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
