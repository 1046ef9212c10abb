import { readdirSync } from 'node:fs';
import { type CliProcess, startCli } from './cli.js';
import { tempDir } from './temp-dir.js';

export const TOKEN = 'e2e-token-5f1c';

/** Flags that make the relay quick to test: 1 s segments, short timeouts and backoff. */
export function fastRelayArgs(
  source: string,
  cloud: string,
  spoolDir: string,
  extra: string[] = [],
): string[] {
  return [
    ...['--source', source, '--cloud', cloud, '--token', TOKEN, '--spool-dir', spoolDir],
    ...['--segment-duration', '1', '--fps', '5', '--resolution', '320x240'],
    ...['--upload-timeout', '2s', '--retry-base', '200ms', '--retry-max', '1s', '--io-timeout', '3s'],
    '--json',
    ...extra,
  ];
}

export function newSpoolDir(): string {
  return tempDir('e2e-spool-');
}

export function spoolDirs(root: string): string[] {
  return readdirSync(root).filter((n) => n.startsWith('trio-relay-segments-'));
}

export interface RelayEvent {
  type: string;
  phase?: string;
  sequence?: number;
  state?: string;
  [key: string]: unknown;
}

/** Sequences of the segments the relay's ffmpeg closed (its NDJSON `closed`/`salvaged` events). */
export function closedSequences(relay: CliProcess): number[] {
  return (relay.events() as RelayEvent[])
    .filter((e) => e.type === 'segment' && (e.phase === 'closed' || e.phase === 'salvaged'))
    .map((e) => e.sequence!)
    .sort((a, b) => a - b);
}

/** Start the built relay with fast settings. */
export function startRelay(
  source: string,
  cloud: string,
  spoolDir: string,
  extra: string[] = [],
): CliProcess {
  return startCli(fastRelayArgs(source, cloud, spoolDir, extra));
}

/** Wait until the relay has closed `count` segments (re-checked on each chunk of its NDJSON output). */
export async function waitForClosed(relay: CliProcess, count: number, timeoutMs = 30_000): Promise<void> {
  await relay.waitFor(
    () => closedSequences(relay).length >= count,
    timeoutMs,
    `waiting for ${count} closed segments`,
  );
}
