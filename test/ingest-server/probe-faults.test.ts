import { afterEach, describe, expect, it } from 'vitest';
import { IngestServer } from '../../src/ingest-server/server.js';
import { tempDir } from '../helpers/temp-dir.js';

const TOKEN = 'probe-test-token';
let server: IngestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<IngestServer> {
  server = await IngestServer.start({
    port: 0,
    outDir: tempDir('probe-faults-'),
    token: TOKEN,
  });
  return server;
}

/** The relay's probe: a HEAD on a camera's ingest path, with the key. */
function probe(ingest: IngestServer, camera = 'cam-1', timeoutMs = 2000): Promise<number> {
  return fetch(`${ingest.url}/api/stream/ingest/${camera}`, {
    method: 'HEAD',
    headers: { 'x-api-key': TOKEN },
    signal: AbortSignal.timeout(timeoutMs),
  }).then((r) => r.status);
}

describe('ingest-server: a relay’s probe meets the faults a segment would', () => {
  it('answers 404 when nothing is faulted, the injected status while a status rule is in force', async () => {
    const ingest = await start();
    expect(await probe(ingest)).toBe(404);
    ingest.faults.add({ kind: 'status', status: 503, count: 2 });
    expect(await probe(ingest)).toBe(503);
    expect(await probe(ingest)).toBe(503);
    // A counted rule is used up by probes as by segments.
    expect(await probe(ingest)).toBe(404);
    expect(ingest.stats().faulted).toBe(2);
  });

  it('a hang never answers the probe; a rule for another camera leaves it alone', async () => {
    const ingest = await start();
    ingest.faults.add({ kind: 'status', status: 503, count: Number.POSITIVE_INFINITY, camera: 'cam-2' });
    expect(await probe(ingest, 'cam-1')).toBe(404);
    expect(await probe(ingest, 'cam-2')).toBe(503);
    ingest.faults.clear();
    ingest.faults.add({ kind: 'hang', count: 1 });
    await expect(probe(ingest, 'cam-1', 300)).rejects.toThrow();
    expect(await probe(ingest, 'cam-1')).toBe(404);
  });
});
