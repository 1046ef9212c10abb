import { writeFileSync } from 'node:fs';
import type { IngestServer } from '../../src/ingest-server/server.js';
import type { CliProcess } from './cli.js';
import type { RelayEvent } from './relay-run.js';

/** Shared settings of a many-camera config file: 1 s segments passed through, quick retries. */
export function writeFleetConfig(
  file: string,
  shared: Record<string, string | number>,
  cameras: ReadonlyArray<Record<string, string | number>>,
): void {
  const lines = Object.entries(shared).map(([key, value]) => `${key}: ${value}`);
  lines.push('cameras:');
  for (const camera of cameras) {
    const [first, ...rest] = Object.entries(camera);
    lines.push(`  - ${first![0]}: ${first![1]}`, ...rest.map(([key, value]) => `    ${key}: ${value}`));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Sequences one camera's ffmpeg closed, as the relay reported them (closed or salvaged). */
export function closedOf(relay: CliProcess, camera: string): number[] {
  return (relay.events() as RelayEvent[])
    .filter(
      (e) => e.camera === camera && e.type === 'segment' && (e.phase === 'closed' || e.phase === 'salvaged'),
    )
    .map((e) => e.sequence!);
}

/** The ingest holds every segment the relay closed for `camera` (not only as many). */
export function allArrived(ingest: IngestServer, relay: CliProcess, camera: string): boolean {
  const arrived = new Set(ingest.accepted(camera).map((row) => row.sequence));
  const closed = closedOf(relay, camera);
  return closed.length > 0 && closed.every((sequence) => arrived.has(sequence));
}

/** The run part of each accepted segment's Idempotency-Key (`<camera>:<run>:<sequence>`), in order. */
export function runsOf(ingest: IngestServer, camera: string): string[] {
  return [...new Set(ingest.accepted(camera).map((row) => row.idempotency_key?.split(':').at(-2) ?? '?'))];
}
