import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { IngestServer } from '../../src/ingest-server/server.js';
import { killAllClis, runCli, startCli } from '../helpers/cli.js';
import { closedSequences, fastRelayArgs, newSpoolDir, spoolDirs, TOKEN } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';
import { makePki, type TestPki } from '../helpers/tls.js';

/** The built relay against the local ingest serving https with a throwaway CA's certificate. */
let pki: TestPki;
let ingest: IngestServer;

beforeAll(async () => {
  pki = makePki();
  ingest = await IngestServer.start({
    port: 0,
    outDir: tempDir('e2e-ingest-'),
    token: TOKEN,
    tls: { cert: pki.cert, key: pki.key },
  });
});
afterAll(async () => {
  killAllClis();
  await ingest.close();
});

/** Relay testsrc until `count` segments of this camera arrived, then stop it: exit 0. */
async function relayUntilDelivered(camera: string, extra: string[], env: Record<string, string> = {}) {
  const relay = startCli(
    fastRelayArgs('testsrc', ingest.url, newSpoolDir(), ['--camera-id', camera, ...extra]),
    {
      env,
    },
  );
  try {
    await ingest.waitFor(() => ingest.accepted(camera).length >= 3, 30_000);
  } catch (error) {
    throw new Error(`${String(error)}\n--- relay stderr ---\n${relay.stderr().slice(-4000)}`);
  }
  relay.kill('SIGTERM');
  expect(await relay.exited, relay.stderr()).toEqual({ code: 0, signal: null });
}

describe('https ingest', () => {
  it('without --ca-file: one fatal line naming the host and --ca-file, exit 5, segments kept in the spool', async () => {
    const spool = newSpoolDir();
    const relay = startCli(fastRelayArgs('testsrc', ingest.url, spool, ['--camera-id', 'cam-tls-no-ca']));
    const exit = await relay.exited;
    expect(exit.code, relay.stderr()).toBe(ExitCode.tls);
    const host = new URL(ingest.url).host;
    const lines = relay
      .stderr()
      .split('\n')
      .filter((l) => l.includes('UNABLE_TO_VERIFY_LEAF_SIGNATURE'));
    expect(lines.at(-1)).toContain(`the ingest at ${host} cannot be verified`);
    expect(lines.at(-1)).toContain('--ca-file');
    expect(ingest.accepted('cam-tls-no-ca')).toEqual([]);
    // Not retried in silence: the run ended at once, and what ffmpeg closed waits in the spool.
    const closed = closedSequences(relay);
    expect(closed.length).toBeGreaterThan(0);
    const [dir] = spoolDirs(spool);
    const kept = readdirSync(join(spool, dir!)).filter((n) => n.endsWith('.ts'));
    expect(kept).toHaveLength(closed.length);
  });

  it('with --ca-file: segments arrive', async () => {
    await relayUntilDelivered('cam-tls-ca-file', ['--ca-file', pki.caFile]);
  });

  it('with NODE_EXTRA_CA_CERTS: segments arrive', async () => {
    await relayUntilDelivered('cam-tls-extra', [], { NODE_EXTRA_CA_CERTS: pki.caFile });
  });

  it('--ca-file adds to NODE_EXTRA_CA_CERTS instead of replacing it', async () => {
    const other = makePki('another CA');
    await relayUntilDelivered('cam-tls-both', ['--ca-file', other.caFile], {
      NODE_EXTRA_CA_CERTS: pki.caFile,
    });
  });
});

describe('plain http to another machine', () => {
  it('is refused before anything starts unless --allow-insecure-http', async () => {
    const args = ['--source', 'testsrc', '--token', TOKEN, '--cloud', 'http://192.0.2.10:8080'];
    const refused = await runCli([...args, '--spool-dir', newSpoolDir()], { timeoutMs: 15_000 });
    expect(refused.code).toBe(ExitCode.badInput);
    expect(refused.stderr.trim().split('\n')).toEqual([
      'trio-relay: --cloud http://192.0.2.10:8080: refusing to send the API key over plain http to 192.0.2.10:8080, which is not this machine; use https://, or pass --allow-insecure-http',
    ]);
  });
});
