import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { IngestServer } from '../../src/ingest-server/server.js';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { type CliProcess, runCli, startCli } from '../helpers/cli.js';
import { expectCameraDelivered, expectSequencesInOrder, stopRelay } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import { freePort } from '../helpers/ports.js';
import { startProxy, stopAllProxies } from '../helpers/proxy.js';
import { closedSequences, fastRelayArgs, newSpoolDir, spoolDirs, TOKEN } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';
import { makePki } from '../helpers/tls.js';

/** The relay through Debian's tinyproxy, a real forward proxy, started here on a free port. */

const USER = 'relay';
const PASSWORD = 'Pr0xy-s3cret-9';
/** How the password travels: in Proxy-Authorization, base64 of `user:password`. */
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
/** Proxy variables of the test runner's own environment must not steer these relays. */
const NO_ENV_PROXY = {
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  HTTP_PROXY: undefined,
  http_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
  TRIO_PROXY: undefined,
};

cleanUpAfterAll(stopAllProxies);

/** The built relay with fast settings, `env` on top of a runner environment without proxies. */
function relay(
  cloud: string,
  spool: string,
  extra: string[],
  env: Record<string, string | undefined> = {},
  source = 'testsrc',
) {
  return startCli(fastRelayArgs(source, cloud, spool, extra), { env: { ...NO_ENV_PROXY, ...env } });
}

/** Every byte the relay wrote: its stdout and stderr, and every file left in its spool. */
function bytesWritten(cli: CliProcess, spool: string): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(readFileSync(path, 'latin1'));
    }
  };
  walk(spool);
  return [cli.stdout(), cli.stderr(), ...files].join('\n');
}

function expectNoProxyPassword(text: string): void {
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), BASIC]) expect(text).not.toContain(secret);
}

describe('through an HTTP proxy', () => {
  it('delivers every segment of a real camera through the proxy with its credentials, and loses nothing while the proxy is down', {
    timeout: 120_000,
  }, async () => {
    const camera = await startCamera();
    const ingest = await startTestIngest();
    const proxy = await startProxy({
      connectPorts: [Number(new URL(ingest.url).port)],
      user: USER,
      password: PASSWORD,
    });
    const spool = newSpoolDir();
    const since = Date.now();
    // The lower-case spelling, as curl reads it.
    const cli = relay(ingest.url, spool, ['--camera-id', 'cam-proxy'], { http_proxy: proxy.url }, camera.url);
    try {
      await ingest.waitFor((s) => s.accepted >= 2, 30_000);
      expect(proxy.log()).toMatch(new RegExp(`CONNECT.*127\\.0\\.0\\.1:${new URL(ingest.url).port}`, 'i'));
      await cli.waitForOutput(
        /reaching the ingest through the proxy http:\/\/relay:\*\*\*@127\.0\.0\.1:\d+ \(from http_proxy\)/,
        5000,
      );

      await proxy.stop();
      const closedAtStop = closedSequences(cli).length;
      await cli.waitForOutput(/the ingest is unreachable: probing it/, 20_000);
      await cli.waitFor(
        () => closedSequences(cli).length >= closedAtStop + 3,
        20_000,
        '3 segments during the outage',
      );
      const acceptedBefore = ingest.stats().accepted;
      await proxy.start();
      await ingest.waitFor((s) => s.accepted > acceptedBefore, 30_000);
      await cli.waitForOutput(/the ingest answers again: resuming uploads/, 10_000);
      const closedNow = closedSequences(cli).length;
      await ingest.waitFor((s) => s.accepted >= closedNow, 30_000);
      expect(await stopRelay(cli)).toBe(0);
      await expectCameraDelivered({ ingest, cameraId: 'cam-proxy', camera, spool, since });
      expectSequencesInOrder(ingest, 'cam-proxy');
      expectNoProxyPassword(bytesWritten(cli, spool));
    } finally {
      cli.kill('SIGKILL');
      await ingest.close();
    }
  });

  it('a wrong proxy password: its own fatal line (not the API key), exit 6, spool kept, no password written', {
    timeout: 60_000,
  }, async () => {
    const ingest = await startTestIngest();
    const proxy = await startProxy({
      connectPorts: [Number(new URL(ingest.url).port)],
      user: USER,
      password: PASSWORD,
    });
    const spool = newSpoolDir();
    const wrong = 'Wr0ng-pr0xy-pw';
    const cli = relay(ingest.url, spool, [
      '--camera-id',
      'cam-proxy-wrong',
      '--proxy',
      proxy.urlWith(USER, wrong),
    ]);
    try {
      const exit = await cli.exited;
      expect(exit.code, cli.stderr()).toBe(ExitCode.proxyAuth);
      const fatal = cli.events().find((e) => e.type === 'error' && e.code === 'ERR_PROXY_AUTH');
      // tinyproxy answers a wrong password with 401 to CONNECT; a missing one with 407.
      expect(fatal?.message).toMatch(
        /^the proxy http:\/\/relay:\*\*\*@127\.0\.0\.1:\d+ answered 401 to CONNECT 127\.0\.0\.1:\d+: the proxy wants credentials or refused ours; check USER:PASSWORD@ in the proxy URL .*not the API key; the spool is kept for the next run$/,
      );
      const events = cli.events();
      expect(events.some((e) => e.type === 'request' && e.outcome === 'proxy-auth')).toBe(true);
      expect(ingest.accepted('cam-proxy-wrong')).toEqual([]);
      const [dir] = spoolDirs(spool);
      const kept = readdirSync(join(spool, dir!)).filter((n) => n.endsWith('.ts'));
      expect(kept.length).toBeGreaterThan(0);
      const written = bytesWritten(cli, spool);
      expect(written).not.toContain(wrong);
      expect(written).not.toContain(Buffer.from(`${USER}:${wrong}`).toString('base64'));
    } finally {
      cli.kill('SIGKILL');
      await ingest.close();
    }
  });

  it('no credentials for a proxy that wants them: 407, exit 6', { timeout: 60_000 }, async () => {
    const ingest = await startTestIngest();
    const proxy = await startProxy({
      connectPorts: [Number(new URL(ingest.url).port)],
      user: USER,
      password: PASSWORD,
    });
    const cli = relay(ingest.url, newSpoolDir(), ['--camera-id', 'cam-proxy-none'], {
      TRIO_PROXY: `http://127.0.0.1:${proxy.port}`,
    });
    try {
      expect((await cli.exited).code, cli.stderr()).toBe(ExitCode.proxyAuth);
      expect(cli.stderr()).toMatch(/answered 407 to CONNECT/);
      expect(cli.stderr()).not.toMatch(/check the API key/);
    } finally {
      cli.kill('SIGKILL');
      await ingest.close();
    }
  });

  it('NO_PROXY lists a local ingest: it is reached directly, the (dead) proxy never asked', {
    timeout: 60_000,
  }, async () => {
    const ingest = await startTestIngest();
    const dead = await freePort();
    const cli = relay(ingest.url, newSpoolDir(), ['--camera-id', 'cam-no-proxy'], {
      HTTP_PROXY: `http://127.0.0.1:${dead}`,
      NO_PROXY: 'localhost,127.0.0.1',
    });
    try {
      await ingest.waitFor(() => ingest.accepted('cam-no-proxy').length >= 2, 30_000);
      expect(cli.stderr()).not.toMatch(/through the proxy/);
      expect(await stopRelay(cli)).toBe(0);
    } finally {
      cli.kill('SIGKILL');
      await ingest.close();
    }
  });
});

describe('an https ingest through a CONNECT tunnel', () => {
  it('--ca-file still applies inside the tunnel: segments arrive; without it, exit 5', {
    timeout: 90_000,
  }, async () => {
    const pki = makePki();
    const ingest = await IngestServer.start({
      port: 0,
      outDir: tempDir('e2e-ingest-'),
      token: TOKEN,
      tls: { cert: pki.cert, key: pki.key },
    });
    const proxy = await startProxy({ connectPorts: [Number(new URL(ingest.url).port)] });
    try {
      // HTTPS_PROXY, upper case: an https ingest's variable.
      const env = { HTTPS_PROXY: proxy.url };
      const trusted = relay(
        ingest.url,
        newSpoolDir(),
        ['--camera-id', 'cam-proxy-tls', '--ca-file', pki.caFile],
        env,
      );
      await ingest.waitFor(() => ingest.accepted('cam-proxy-tls').length >= 2, 30_000);
      expect(proxy.log()).toMatch(new RegExp(`CONNECT.*127\\.0\\.0\\.1:${new URL(ingest.url).port}`, 'i'));
      expect(await stopRelay(trusted)).toBe(0);

      const untrusted = relay(ingest.url, newSpoolDir(), ['--camera-id', 'cam-proxy-untrusted'], env);
      expect((await untrusted.exited).code, untrusted.stderr()).toBe(ExitCode.tls);
      expect(untrusted.stderr()).toMatch(
        /TLS: the certificate of the ingest at 127\.0\.0\.1:\d+ cannot be verified/,
      );
    } finally {
      await ingest.close();
    }
  });
});

describe('doctor through a proxy', () => {
  it('says which proxy it used (redacted, and from where), and that the proxy refused, not the ingest', {
    timeout: 60_000,
  }, async () => {
    const ingest = await startTestIngest();
    const proxy = await startProxy({
      connectPorts: [Number(new URL(ingest.url).port)],
      user: USER,
      password: PASSWORD,
    });
    const doctor = (proxyUrl: string) =>
      runCli(['doctor', '-s', 'testsrc', '-t', TOKEN, '--cloud', ingest.url, '--spool-dir', newSpoolDir()], {
        timeoutMs: 45_000,
        env: { ...NO_ENV_PROXY, HTTP_PROXY: proxyUrl },
      });
    try {
      const good = await doctor(proxy.url);
      expect(good.code, good.stdout).toBe(0);
      expect(good.stdout).toMatch(
        /✓ proxy\s+http:\/\/relay:\*\*\*@127\.0\.0\.1:\d+ \(from HTTP_PROXY\): the tunnel to the ingest opens/,
      );
      expect(good.stdout).toMatch(/✓ api key\s+accepted/);

      const wrong = await doctor(proxy.urlWith(USER, 'Wr0ng-pr0xy-pw'));
      expect(wrong.code, wrong.stdout).toBe(1);
      expect(wrong.stdout).toMatch(
        /✗ proxy\s+http:\/\/relay:\*\*\*@127\.0\.0\.1:\d+ \(from HTTP_PROXY\) refused the relay's credentials \(HTTP 401 to CONNECT\): the proxy refused, not the ingest/,
      );
      expect(wrong.stdout).toMatch(/- ingest\s+.*needs the proxy/);
      for (const out of [good.stdout + good.stderr, wrong.stdout + wrong.stderr]) {
        expectNoProxyPassword(out);
        expect(out).not.toContain('Wr0ng-pr0xy-pw');
      }
    } finally {
      await ingest.close();
    }
  });
});
