import { afterAll, onTestFinished } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { stopAllCameras } from './camera.js';
import { type CliProcess, killAllClis } from './cli.js';
import { startTestIngest } from './ingest.js';

/**
 * An e2e file's cleanup, whatever a failed test left running: once its tests are done, every CLI
 * it started is killed and every camera stopped, then each of `more` runs in turn (an ingest,
 * proxies, a browser).
 */
export function cleanUpAfterAll(...more: Array<() => unknown>): void {
  afterAll(async () => {
    killAllClis();
    await stopAllCameras();
    for (const close of more) await close();
  });
}

/** The local ingest for the calling test only: closed when the test ends, passed or failed. */
export async function startIngestForTest(): Promise<IngestServer> {
  const ingest = await startTestIngest();
  onTestFinished(() => ingest.close());
  return ingest;
}

/** `relay`, killed (SIGKILL) when the calling test ends, so the next test has the camera to itself. */
export function killAfterTest<T extends CliProcess>(relay: T): T {
  onTestFinished(() => {
    relay.kill('SIGKILL');
  });
  return relay;
}
