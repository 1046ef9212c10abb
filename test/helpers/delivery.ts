import { expect } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import type { CliProcess } from './cli.js';
import { closedSequences } from './relay-run.js';

/** Sequences the ingest accepted for a camera (deduplicated by construction: one row per key). */
export function acceptedSequences(ingest: IngestServer, camera: string): number[] {
  return ingest
    .accepted(camera)
    .map((r) => r.sequence ?? -1)
    .sort((a, b) => a - b);
}

/**
 * The zero-loss check: every segment the relay's ffmpeg closed reached the ingest once after
 * de-duplication, and the sequence has no holes.
 */
export function expectEveryClosedSegmentDelivered(
  relay: CliProcess,
  ingest: IngestServer,
  camera: string,
): void {
  const closed = closedSequences(relay);
  const accepted = acceptedSequences(ingest, camera);
  expect(closed.length).toBeGreaterThan(0);
  expect(accepted).toEqual(closed);
  const first = accepted[0]!;
  expect(accepted).toEqual(accepted.map((_, i) => first + i));
}

/** Stop the relay gracefully and wait for its exit code. */
export async function stopRelay(relay: CliProcess): Promise<number | null> {
  relay.kill('SIGTERM');
  return (await relay.exited).code;
}
