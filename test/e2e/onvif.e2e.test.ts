import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { runCli, startCli } from '../helpers/cli.js';
import { expectCameraDelivered } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import { type FakeOnvifDevice, startFakeOnvifDevice } from '../helpers/onvif-device.js';
import { closedSequences, fastRelayArgs, newSpoolDir, TOKEN, waitForClosed } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * A camera given by ONVIF: a local ONVIF device (SOAP with WS-Security digest, WS-Discovery on
 * UDP) whose GetStreamUri points at the real password-protected RTSP test camera, without
 * credentials, as real devices answer. The built relay asks it, injects the credentials, and
 * the ingest must receive every second the camera streamed. No spelling of the password may be
 * written anywhere.
 */
const USER = 'admin';
const PASSWORD = 'pa@ss:w/o%rd x';

let camera: Camera;
let onvif: FakeOnvifDevice;
let ingest: IngestServer;
let passwordFile: string;

beforeAll(async () => {
  [camera, ingest] = await Promise.all([startCamera({ user: USER, password: PASSWORD }), startTestIngest()]);
  onvif = await startFakeOnvifDevice({
    user: USER,
    password: PASSWORD,
    name: 'Loading Bay',
    model: 'FK-2',
    profiles: [
      { token: 'main_token', name: 'mainStream' },
      { token: 'sub_token', name: 'subStream' },
    ],
    streamUri: (token) => (token === 'main_token' ? camera.url : `${camera.url}-missing`),
  });
  passwordFile = join(tempDir('onvif-e2e-'), 'camera-password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});
cleanUpAfterAll(
  () => ingest.close(),
  () => onvif.close(),
);

/** The relay's fast test flags, the camera given by `camera` flags instead of --source. */
function relayArgs(spool: string, id: string, camera: string[]): string[] {
  const args = fastRelayArgs('unused', ingest.url, spool, ['--camera-id', id, ...camera]);
  return args.filter((_, i) => args[i] !== '--source' && args[i - 1] !== '--source');
}

function secrets(): string[] {
  const encoded = encodeURIComponent(PASSWORD);
  return [
    PASSWORD,
    encoded,
    new URL(`rtsp://u:${encoded}@h/`).password,
    PASSWORD.slice(3),
    encoded.slice(5),
    TOKEN,
  ];
}

function expectNoSecret(output: { stdout: string; stderr: string }, spool?: string): void {
  const where: Record<string, string> = { ...output };
  if (spool) {
    for (const entry of readdirSync(spool, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) where[entry.name] = readFileSync(join(entry.parentPath, entry.name), 'latin1');
    }
  }
  for (const [place, text] of Object.entries(where)) {
    for (const secret of secrets())
      expect(text.includes(secret), `${secret} in ${place}:\n${text}`).toBe(false);
  }
}

describe('a camera given by ONVIF host', () => {
  it('--host --user --password-file: the main profile is relayed and every second arrives at the ingest', async () => {
    const spool = newSpoolDir();
    const since = Date.now();
    const id = 'cam-onvif';
    const relay = startCli(
      relayArgs(spool, id, [
        '--host',
        '127.0.0.1',
        '--onvif-port',
        String(onvif.port),
        '--user',
        USER,
        '--password-file',
        passwordFile,
      ]),
    );
    await waitForClosed(relay, 3);
    relay.kill('SIGTERM');
    expect(await relay.exited, relay.stderr()).toEqual({ code: 0, signal: null });
    expect(ingest.accepted(id).map((r) => r.sequence)).toEqual(closedSequences(relay));
    await expectCameraDelivered({ ingest, cameraId: id, camera, spool, since });
    expect(onvif.calls.some((c) => c.operation === 'GetStreamUri' && c.body.includes('main_token'))).toBe(
      true,
    );
    expectNoSecret({ stdout: relay.stdout(), stderr: relay.stderr() }, spool);
  });

  it('a wrong password: one clear line, exit 2, nothing started, the password nowhere', async () => {
    const wrong = join(tempDir('onvif-e2e-'), 'wrong');
    writeFileSync(wrong, 'not-the-password\n');
    const spool = newSpoolDir();
    const result = await runCli(
      relayArgs(spool, 'cam-onvif-wrong', ['--host', onvif.host, '--user', USER, '--password-file', wrong]),
      { timeoutMs: 20_000 },
    );
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      type: 'error',
      code: 'ERR_ONVIF_AUTH',
      message: `ONVIF device ${onvif.host} refused user "${USER}": wrong user or password`,
    });
    expect(result.stderr).not.toContain('not-the-password');
    expect(readdirSync(spool)).toEqual([]);
  });

  it('an unknown --profile: one line listing the profiles the device has (exit 2)', async () => {
    const result = await runCli(
      relayArgs(newSpoolDir(), 'cam-onvif-p', ['--host', onvif.host, '--user', USER, '--profile', 'third']),
      { timeoutMs: 20_000, env: { TRIO_CAMERA_PASSWORD: PASSWORD } },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      'has no profile \\"third\\"; it has: mainStream (token main_token, H264 320x240 10fps), subStream',
    );
    expectNoSecret({ stdout: result.stdout, stderr: result.stderr });
  });

  it('SIGTERM while the camera has not answered yet: exit 0 at once, nothing started', async () => {
    const hung = await startFakeOnvifDevice({ streamUri: () => camera.url, hang: true });
    try {
      const spool = newSpoolDir();
      const relay = startCli(relayArgs(spool, 'cam-onvif-hung', ['--host', hung.host]));
      await hung.nextCall();
      relay.kill('SIGTERM');
      expect(await relay.exited, relay.stderr()).toEqual({ code: 0, signal: null });
      // It did not wait for the ONVIF call's deadline: the stop ended the question.
      expect(relay.stderr()).not.toMatch(/did not answer within/);
      expect(readdirSync(spool)).toEqual([]);
    } finally {
      await hung.close();
    }
  });

  it('--user and --password-file put the credentials into a plain --source URL', async () => {
    const spool = newSpoolDir();
    const id = 'cam-user-flag';
    const relay = startCli(
      fastRelayArgs(camera.url, ingest.url, spool, [
        '--camera-id',
        id,
        '--user',
        USER,
        '--password-file',
        passwordFile,
      ]),
    );
    await ingest.waitFor(() => ingest.accepted(id).length >= 2, 30_000);
    relay.kill('SIGTERM');
    expect(await relay.exited, relay.stderr()).toEqual({ code: 0, signal: null });
    expectNoSecret({ stdout: relay.stdout(), stderr: relay.stderr() }, spool);
  });
});

describe('trio-relay doctor with an ONVIF camera', () => {
  it('resolves --host the same way and checks the stream it points at', async () => {
    const result = await runCli(
      ['doctor', '--json', '--spool-dir', newSpoolDir(), '--token', TOKEN, '--cloud', ingest.url].concat([
        '--host',
        onvif.host,
        '--user',
        USER,
        '--password-file',
        passwordFile,
      ]),
      { timeoutMs: 60_000 },
    );
    const report = JSON.parse(result.stdout) as {
      checks: Array<{ check: string; status: string; detail: string }>;
    };
    const source = report.checks.find((c) => c.check === 'source');
    expect(source, result.stdout).toMatchObject({ status: 'ok' });
    expect(source!.detail).toMatch(/^rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/stream: h264/);
    expectNoSecret({ stdout: result.stdout, stderr: result.stderr });
  });
});

describe('trio-relay discover', () => {
  it('lists the device that answered the probe, with --json for machines', async () => {
    const json = await runCli(
      ['discover', '--discover-address', onvif.discoveryAddress, '--timeout', '1s', '--json'],
      {
        timeoutMs: 20_000,
      },
    );
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      v: 1,
      type: 'discover',
      devices: [
        {
          address: onvif.host,
          service: `http://${onvif.host}/onvif/device_service`,
          endpoint: `urn:uuid:fake-device-${onvif.port}`,
          name: 'Loading Bay',
          manufacturer: null,
          model: 'FK-2',
          credentials: 'required',
          scopes: expect.arrayContaining(['onvif://www.onvif.org/name/Loading%20Bay']),
        },
      ],
    });
    const table = await runCli(
      ['discover', '--discover-address', onvif.discoveryAddress, '--timeout', '1s'],
      {
        timeoutMs: 20_000,
      },
    );
    expect(table.stdout).toBe(
      `${onvif.host}  FK-2  "Loading Bay"  credentials required  http://${onvif.host}/onvif/device_service\n`,
    );
    expect(table.stderr).toContain('1 ONVIF device(s) answered within 1s');
  });

  it('--discover without a terminal says what to do instead (exit 2)', async () => {
    const result = await runCli(relayArgs(newSpoolDir(), 'cam-d', ['--discover']), { timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--discover picks a camera on a terminal');
  });
});
