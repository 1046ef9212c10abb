import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveCameraId } from '../../src/camera/camera-id.js';
import { parseSource } from '../../src/camera/source.js';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { killAllClis, runCli, startCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { fastRelayArgs, newSpoolDir } from '../helpers/relay-run.js';

/**
 * The derived camera id is in logs, /metrics, spool names and the ingest URL. Hashed from a URL
 * with its password, a weak password came back from it by brute force (the MAC is on the LAN):
 * the built relay derives it without the userinfo, unless asked for the Python relay's rule.
 */
let ingest: IngestServer;
beforeAll(async () => {
  ingest = await startTestIngest();
});
afterAll(async () => {
  killAllClis();
  await ingest.close();
});

/** A camera that refuses connections: the relay still starts, and says its id. */
const url = (password: string) => `rtsp://admin:${password}@127.0.0.1:1/cam`;

async function idOf(source: string, extra: string[] = []): Promise<string> {
  const relay = startCli(fastRelayArgs(source, ingest.url, newSpoolDir(), extra));
  let id: string | undefined;
  await relay.waitFor(
    () => {
      id = relay.events().find((e) => typeof e.camera === 'string' && e.camera !== '')?.camera as string;
      return id !== undefined;
    },
    20_000,
    'an event naming the camera',
  );
  relay.kill('SIGTERM');
  await relay.exited;
  return id!;
}

describe('the derived camera id', () => {
  it('is the same whatever the password, and is the id of the URL without credentials', async () => {
    const [a, b] = [await idOf(url('12345')), await idOf(url('12346'))];
    expect(a).toBe(b);
    expect(a).toBe(deriveCameraId(parseSource('rtsp://127.0.0.1:1/cam'), 'legacy'));
  });

  it('--camera-id-derivation legacy keeps the Python relay id (password included)', async () => {
    const id = await idOf(url('12345'), ['--camera-id-derivation', 'legacy']);
    expect(id).toBe(deriveCameraId(parseSource(url('12345')), 'legacy'));
    expect(id).not.toBe(deriveCameraId(parseSource(url('12346')), 'legacy'));
  });

  it('an unknown derivation is exit 2 naming the choices', async () => {
    const result = await runCli(
      fastRelayArgs('testsrc', ingest.url, newSpoolDir(), ['--camera-id-derivation', 'python']),
      { timeoutMs: 20_000 },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--camera-id-derivation python: expected one of no-credentials, legacy');
  });
});
