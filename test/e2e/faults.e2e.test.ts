import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../src/ingest-server/faults.js';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { readJournal } from '../../src/spool/journal.js';
import { LOSS_LEDGER_FILE } from '../../src/spool/naming.js';
import { UNCAPTURED_REASONS } from '../../src/types.js';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll, killAfterTest, startIngestForTest } from '../helpers/cleanup.js';
import type { CliProcess } from '../helpers/cli.js';
import { expectCameraDelivered, expectSequencesInOrder, stopRelay } from '../helpers/delivery.js';
import { newSpoolDir, spoolDirs, startRelay, TOKEN, waitForClosed } from '../helpers/relay-run.js';

/**
 * Zero-loss delivery under ingest faults: the real camera, the built CLI, and the local ingest
 * in-process so each test drives its fault deterministically (wait for the fault to be hit,
 * then clear it) instead of relying on timing.
 */
let camera: Camera;
let ingest: IngestServer;
let relay: CliProcess | undefined;

beforeAll(async () => {
  camera = await startCamera();
});
cleanUpAfterAll();

async function startIngest(): Promise<IngestServer> {
  ingest = await startIngestForTest();
  return ingest;
}

/** Segments the ingest faulted so far. */
function faulted(): number {
  return ingest.stats().faulted;
}

async function runWithFault(camera_: string, rules: FaultRule[], faultsToSee: number) {
  await startIngest();
  const spool = newSpoolDir();
  const since = Date.now();
  relay = killAfterTest(startRelay(camera.url, ingest.url, spool, ['--camera-id', camera_]));
  await ingest.waitFor((s) => s.accepted >= 2, 30_000);
  for (const rule of rules) ingest.faults.add(rule);
  await ingest.waitFor(() => faulted() >= faultsToSee, 30_000);
  ingest.faults.clear();
  // After the fault clears, two more segments arrive: the backlog drained in order.
  const target = ingest.stats().accepted + 3;
  await ingest.waitFor((s) => s.accepted >= target, 30_000);
  expect(await stopRelay(relay)).toBe(0);
  await expectCameraDelivered({ ingest, cameraId: camera_, camera, spool, since });
  expectSequencesInOrder(ingest, camera_);
  expect(spoolDirs(spool)).toEqual([]);
  return { spool };
}

describe('zero-loss delivery under faults', () => {
  it('a burst of 503s', async () => {
    await runWithFault('cam-5xx', [{ kind: 'status', status: 503, count: 5 }], 5);
  });

  it('every 3rd request answered 500', async () => {
    await runWithFault('cam-nth', [{ kind: 'every', n: 3, status: 500 }], 3);
  });

  it('429 with Retry-After is honoured', async () => {
    await runWithFault('cam-429', [{ kind: 'status', status: 429, count: 2, retryAfterS: 1 }], 2);
    const retries = relay!
      .events()
      .filter((e) => e.type === 'segment' && e.phase === 'retry' && String(e.reason).includes('429'));
    expect(retries.map((e) => e.delayMs)).toEqual([1000, 1000]);
  });

  it('requests that hang without an answer hit the deadline and are retried', async () => {
    await runWithFault('cam-hang', [{ kind: 'hang', count: 2 }], 2);
    expect(relay!.stderr()).toContain('ERR_DEADLINE');
  });

  it('connections reset mid-body', async () => {
    await runWithFault('cam-reset', [{ kind: 'reset', count: 3 }], 3);
  });

  it('an ingest that refuses connections for a while', async () => {
    await startIngest();
    const spool = newSpoolDir();
    const since = Date.now();
    relay = killAfterTest(startRelay(camera.url, ingest.url, spool, ['--camera-id', 'cam-down']));
    await ingest.waitFor((s) => s.accepted >= 2, 30_000);
    await ingest.faults.down();
    const closedBefore = relay.events().filter((e) => e.phase === 'closed').length;
    await waitForClosed(relay, closedBefore + 4); // capture carries on into the spool
    await ingest.faults.up();
    const target = ingest.stats().accepted + 6;
    await ingest.waitFor((s) => s.accepted >= target, 30_000);
    expect(await stopRelay(relay)).toBe(0);
    await expectCameraDelivered({ ingest, cameraId: 'cam-down', camera, spool, since });
    expectSequencesInOrder(ingest, 'cam-down');
  });

  it('401 from some point on stops the relay with exit code 3 and keeps the spool', async () => {
    await startIngest();
    const spool = newSpoolDir();
    relay = killAfterTest(startRelay(camera.url, ingest.url, spool, ['--camera-id', 'cam-401']));
    await ingest.waitFor((s) => s.accepted >= 2, 30_000);
    ingest.faults.add({ kind: 'status', status: 401, count: Number.POSITIVE_INFINITY });
    const exit = await relay.exited;
    expect(exit.code).toBe(3);
    expect(relay.stderr()).toMatch(/check the API key/);
    expect(relay.stderr()).not.toContain(TOKEN);
    const dirs = spoolDirs(spool);
    expect(dirs).toHaveLength(1);
    const journal = await readJournal(join(spool, dirs[0]!));
    expect(journal?.segments.length).toBeGreaterThan(0);
  });

  it('other 4xx reject that segment only: kept in rejected/, recorded, announced as a gap', async () => {
    await startIngest();
    const spool = newSpoolDir();
    relay = killAfterTest(startRelay(camera.url, ingest.url, spool, ['--camera-id', 'cam-400']));
    await ingest.waitFor((s) => s.accepted >= 2, 30_000);
    ingest.faults.add({ kind: 'status', status: 400, count: 1 });
    await ingest.waitFor(() => faulted() >= 1, 30_000);
    const target = ingest.stats().accepted + 2;
    await ingest.waitFor((s) => s.accepted >= target, 30_000);
    expect(await stopRelay(relay)).toBe(0);
    const losses = readFileSync(join(spool, LOSS_LEDGER_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      // Video captured and then lost; the stop's own tail (relay-stopped) is a hole, not a loss.
      .filter((l) => !(UNCAPTURED_REASONS as readonly string[]).includes(l.reason));
    expect(losses).toEqual([expect.objectContaining({ camera: 'cam-400', reason: 'rejected' })]);
    // Announced once; the stop's own tail may ride on the segment the drain sends after it.
    const withGap = ingest
      .accepted('cam-400')
      .filter((r) => JSON.stringify(r.gap).includes('"reason":"rejected"'));
    expect(withGap).toHaveLength(1);
    expect(JSON.stringify(withGap[0]!.gap)).toContain(`"seq_from":${losses[0].seqFrom}`);
  });
});
