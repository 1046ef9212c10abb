import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { killAllClis, runCli, startCli } from '../helpers/cli.js';
import { writeFleetConfig } from '../helpers/fleet.js';
import { startTestIngest } from '../helpers/ingest.js';
import { type FakeOnvifDevice, startFakeOnvifDevice } from '../helpers/onvif-device.js';
import { listenOnFreePort } from '../helpers/ports.js';
import { fastRelayArgs, newSpoolDir, TOKEN } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * What an ONVIF device on the LAN can make the relay do with the camera's credentials, and
 * print on the operator's terminal. The device answers GetStreamUri with another host (a
 * spoofed answer, a man in the middle of plain HTTP): the password must not follow it, unless
 * the operator allowed that host by name. Its names, models and fault reasons carry terminal
 * escapes: none may reach the output.
 */
const USER = 'admin';
const PASSWORD = 'steal-me-4711';
/** Another loopback address: "another host" without leaving the machine. */
const OTHER_HOST = '127.0.0.2';

/** An RTSP server on OTHER_HOST that asks for Basic auth and records every request it gets. */
interface Trap {
  readonly port: number;
  readonly requests: string[];
  close(): Promise<void>;
}

async function startTrap(): Promise<Trap> {
  const requests: string[] = [];
  const server: Server = createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const request = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        requests.push(request);
        const cseq = /^CSeq:\s*(\d+)/im.exec(request)?.[1] ?? '1';
        socket.write(
          `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="trap"\r\n\r\n`,
        );
      }
    });
    socket.on('error', () => {});
  });
  const port = await listenOnFreePort(server, OTHER_HOST);
  return {
    port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let trap: Trap;
let device: FakeOnvifDevice;
let ingest: IngestServer;
let passwordFile: string;

beforeAll(async () => {
  [trap, ingest] = await Promise.all([startTrap(), startTestIngest()]);
  device = await startFakeOnvifDevice({
    user: USER,
    password: PASSWORD,
    streamUri: () => `rtsp://${OTHER_HOST}:${trap.port}/steal`,
  });
  passwordFile = join(tempDir('onvif-trust-'), 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});
afterAll(async () => {
  killAllClis();
  await Promise.all([trap.close(), ingest.close(), device.close()]);
});

/** The relay's fast test flags with the camera given by `camera` flags instead of --source. */
function relayArgs(spool: string, camera: string[], json = true): string[] {
  const args = fastRelayArgs('unused', ingest.url, spool, ['--camera-id', 'cam-trust', ...camera]);
  return args.filter(
    (_, i) => args[i] !== '--source' && args[i - 1] !== '--source' && (json || args[i] !== '--json'),
  );
}

const account = () => ['--user', USER, '--password-file', passwordFile];
const basicAuth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

describe('the camera credentials go only to the host the operator named', () => {
  it('a stream URL on another host: one line, exit 2, nothing sent there', async () => {
    const spool = newSpoolDir();
    const result = await runCli(relayArgs(spool, ['--host', device.host, ...account()], false), {
      timeoutMs: 20_000,
    });
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `trio-relay: ONVIF device ${device.host} gave the stream URL rtsp://${OTHER_HOST}:${trap.port}/steal, on host ${OTHER_HOST}, not 127.0.0.1: the camera's credentials are not sent there (if ${OTHER_HOST} is this camera, add --allow-credentials-to ${OTHER_HOST})`,
    );
    expect(trap.requests).toEqual([]);
    expect(readdirSync(spool)).toEqual([]);
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it('the same from a cameras: list entry names the camera (exit 2)', async () => {
    const dir = tempDir('onvif-trust-');
    const config = join(dir, 'relay.yaml');
    writeFleetConfig(config, { cloud: ingest.url, 'spool-dir': newSpoolDir() }, [
      { id: 'yard', host: device.host, user: USER, 'password-file': passwordFile },
    ]);
    const result = await runCli(['--config', config, '--json'], {
      timeoutMs: 20_000,
      env: { TRIO_TOKEN: TOKEN },
    });
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      type: 'error',
      code: 'ERR_CONFIG',
      message: expect.stringMatching(
        /^camera "yard": ONVIF device .* on host 127\.0\.0\.2, not 127\.0\.0\.1: the camera's credentials are not sent there/,
      ),
    });
    expect(trap.requests).toEqual([]);
  });

  it('--allow-credentials-to HOST sends them there, as the operator asked', async () => {
    trap.requests.length = 0;
    const relay = startCli(
      relayArgs(newSpoolDir(), ['--host', device.host, ...account(), '--allow-credentials-to', OTHER_HOST]),
    );
    await relay.waitFor(
      () => trap.requests.some((r) => r.includes(basicAuth)),
      20_000,
      'ffmpeg sending the credentials to the allowed host',
    );
    relay.kill('SIGTERM');
    expect((await relay.exited).code, relay.stderr()).toBe(0);
    expect(relay.stderr()).not.toContain(PASSWORD);
  });

  it('allow-credentials-to on a cameras: list entry allows that camera only', async () => {
    trap.requests.length = 0;
    const config = join(tempDir('onvif-trust-'), 'relay.yaml');
    writeFleetConfig(config, { cloud: ingest.url, 'spool-dir': newSpoolDir() }, [
      {
        id: 'yard',
        host: device.host,
        user: USER,
        'password-file': passwordFile,
        'allow-credentials-to': OTHER_HOST,
      },
    ]);
    const relay = startCli(['--config', config, '--json'], { env: { TRIO_TOKEN: TOKEN } });
    await relay.waitFor(
      () => trap.requests.some((r) => r.includes(basicAuth)),
      20_000,
      'ffmpeg sending the credentials to the host the entry allows',
    );
    relay.kill('SIGTERM');
    expect((await relay.exited).code, relay.stderr()).toBe(0);
  });

  it('TRIO_ALLOW_CREDENTIALS_TO takes a comma-separated list; a bad host is exit 2 naming it', async () => {
    const bad = await runCli(relayArgs(newSpoolDir(), ['--host', device.host, ...account()], false), {
      timeoutMs: 20_000,
      env: { TRIO_ALLOW_CREDENTIALS_TO: 'cam.local,http://x/' },
    });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'trio-relay: --allow-credentials-to http://x/: expected a host name or address (no port, scheme or path), e.g. 192.168.1.10 (from TRIO_ALLOW_CREDENTIALS_TO)',
    );
  });
});

/** Bytes a terminal acts on: ESC, BEL, CSI (C1), and other C0/C1 controls but the line end. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what must not be printed.
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('what a device says is printed without terminal escapes', () => {
  let hostile: FakeOnvifDevice;
  beforeAll(async () => {
    hostile = await startFakeOnvifDevice({
      name: 'Front\u001b]0;owned\u0007\u001b[2J Door',
      model: 'FK\u009b31m-3\u001b[0m',
      profiles: [{ token: 'p1', name: 'main\u001b[1A\u001b[2K' }],
      streamUri: () => 'rtsp://127.0.0.1:1/x',
      streamUriFault: 'boom\u001bc\u001b[31m red\u0085',
    });
  });
  afterAll(() => hostile.close());

  it('discover: names and models, as a table and as JSON', async () => {
    const table = await runCli(
      ['discover', '--discover-address', hostile.discoveryAddress, '--timeout', '1s'],
      {
        timeoutMs: 20_000,
      },
    );
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toBe(
      `${hostile.host}  Fake FK-3  "Front Door"  credentials not required  http://${hostile.host}/onvif/device_service\n`,
    );
    const json = await runCli(
      ['discover', '--discover-address', hostile.discoveryAddress, '--timeout', '1s', '--json'],
      { timeoutMs: 20_000 },
    );
    expect(json.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(JSON.parse(json.stdout).devices[0]).toMatchObject({ name: 'Front Door', model: 'FK-3' });
  });

  it('a profile name and a SOAP fault reason in the error line', async () => {
    const profile = await runCli(
      relayArgs(newSpoolDir(), ['--host', hostile.host, '--profile', 'x'], false),
      {
        timeoutMs: 20_000,
      },
    );
    expect(profile.code, profile.stderr).toBe(2);
    expect(profile.stderr).not.toMatch(TERMINAL_CONTROL);
    expect(profile.stderr).toContain('it has: main (token p1, H264 320x240 10fps)');
    const fault = await runCli(relayArgs(newSpoolDir(), ['--host', hostile.host], false), {
      timeoutMs: 20_000,
    });
    expect(fault.code, fault.stderr).toBe(4);
    expect(fault.stderr).not.toMatch(TERMINAL_CONTROL);
    expect(fault.stderr).toContain('answered a SOAP fault: boom red');
  });
});
