import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseDurationMs } from '../../src/config/parse.js';
import { RELAY_DEFAULTS } from '../../src/config/relay-config.js';

/** The repository root (the Docker build context). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DOCKER_DIR = fileURLToPath(new URL('../../docker/', import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(`${ROOT}${path}`, 'utf8');
}

/** Every YAML document of a file, as plain objects. */
export function readYamlDocuments(path: string): Record<string, unknown>[] {
  return parseAllDocuments(readRepoFile(path)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
    return doc.toJS() as Record<string, unknown>;
  });
}

/** The relay's guard exits the process this long after the drain budget ran out. */
export const EXIT_GUARD_S = 1;
/** What a stop timeout keeps beyond the relay's own bound: Node's start-up, tini, a slow disk. */
export const STOP_MARGIN_S = 2;

/** Seconds of a relay duration setting (`6s`, `6`, `500ms`), or the default --drain-timeout. */
export function drainSeconds(value: unknown = RELAY_DEFAULTS.drainTimeout): number {
  return parseDurationMs('drain-timeout', value, { min: 0, max: 600_000 }) / 1000;
}

/**
 * The least stop timeout (SIGTERM to SIGKILL) that lets a relay with this --drain-timeout finish
 * its stop: the drain budget, the exit guard's second and the margin.
 */
export function leastStopTimeoutS(drainTimeout?: unknown): number {
  return drainSeconds(drainTimeout) + EXIT_GUARD_S + STOP_MARGIN_S;
}

/** Seconds of a Go/compose/systemd duration: `10s`, `1m30s`, `90`, `1min 30s`. */
export function durationSeconds(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  let rest = trimmed.replace(/\s+/g, '');
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|sec|s|min|m|h)/.exec(rest);
    if (!m) throw new Error(`not a duration: ${text}`);
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}
