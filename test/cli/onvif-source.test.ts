import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Prompter,
  parseAllowedHosts,
  parseDiscoverAddress,
  resolveCameraSource,
} from '../../src/cli/onvif-source.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';
import { type FakeOnvifDevice, startFakeOnvifDevice } from '../helpers/onvif-device.js';
import { tempDir } from '../helpers/temp-dir.js';

const USER = 'viewer';
const PASSWORD = 'sw0rd fish:@/';
const signal = new AbortController().signal;

const devices: FakeOnvifDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
});

function passwordFile(text: string): string {
  const path = join(tempDir('onvif-pw-'), 'password');
  writeFileSync(path, text);
  return path;
}

/** An operator who answers each question with the next of `answers`, and what they were shown. */
function operator(answers: string[]): Prompter & { shown: string[] } {
  const shown: string[] = [];
  return {
    shown,
    say: (line) => shown.push(line),
    ask: async (question) => {
      shown.push(question);
      return answers.shift() ?? '';
    },
  };
}

describe('resolveCameraSource: the camera flags → --source', () => {
  it('--host with --user and --password-file becomes the profile URL, credentials inside, noted masked', async () => {
    const cam = await startFakeOnvifDevice({
      user: USER,
      password: PASSWORD,
      streamUri: (t) => `rtsp://127.0.0.1:1/${t}`,
    });
    devices.push(cam);
    const notes: string[] = [];
    const flags = await resolveCameraSource(
      {
        host: '127.0.0.1',
        onvifPort: String(cam.port),
        user: USER,
        passwordFile: passwordFile(`${PASSWORD}\n`),
      },
      { signal, note: (line) => notes.push(line), env: {} },
    );
    expect(flags.source).toBe(`rtsp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/profile_main`);
    expect(notes).toEqual([
      `ONVIF 127.0.0.1: profile main (token profile_main, H264 320x240 10fps) → rtsp://${USER}:***@127.0.0.1:1/profile_main`,
    ]);
  });

  it('takes the password from TRIO_CAMERA_PASSWORD when there is no --password-file', async () => {
    const cam = await startFakeOnvifDevice({
      user: USER,
      password: PASSWORD,
      streamUri: (t) => `rtsp://127.0.0.1:1/${t}`,
    });
    devices.push(cam);
    const flags = await resolveCameraSource(
      { host: cam.host, user: USER },
      { signal, env: { TRIO_CAMERA_PASSWORD: PASSWORD } },
    );
    expect(flags.source).toContain(encodeURIComponent(PASSWORD));
    expect(redact(`${flags.source}`)).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('puts --user and the password into a plain rtsp --source', async () => {
    const flags = await resolveCameraSource(
      { source: 'rtsp://10.0.0.9/live', user: 'admin', passwordFile: passwordFile('abc d\n') },
      { signal, env: {} },
    );
    expect(flags.source).toBe('rtsp://admin:abc%20d@10.0.0.9/live');
    expect(await resolveCameraSource({ source: 'testsrc' }, { signal, env: {} })).toEqual({
      source: 'testsrc',
    });
  });

  it.each([
    [{ source: 'rtsp://cam/s', host: 'cam' }, '--source and --host: give only one way to find the camera'],
    [{ host: 'cam', discover: true }, '--host and --discover: give only one way'],
    [{ source: 'testsrc', user: 'u' }, '--user applies to an rtsp(s):// or http(s):// --source'],
    [{ source: 'rtsp://a:b@cam/s', user: 'u' }, '--source already holds a user'],
    [{ source: 'rtsp://cam/s', passwordFile: '/x' }, '--password-file /x without --user'],
    [
      { source: 'rtsp://cam/s', user: 'u', passwordFile: '/nonexistent/pw' },
      '--password-file /nonexistent/pw: cannot read it (ENOENT)',
    ],
    [{ source: 'rtsp://cam/s', profile: 'sub' }, '--profile applies to an ONVIF camera: add --host'],
    [{ host: 'cam', onvifPort: '70000' }, '--onvif-port 70000: expected a TCP port from 1 to 65535'],
  ])('%j is one ConfigError', async (flags, message) => {
    const error = await resolveCameraSource(flags, { signal, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
  });

  it('--discover lists the cameras that answered, then the profiles, and relays the ones picked', async () => {
    const cam = await startFakeOnvifDevice({
      user: USER,
      password: PASSWORD,
      name: 'Gate',
      profiles: [
        { token: 'hd', name: 'main' },
        { token: 'sd', name: 'sub' },
      ],
      streamUri: (t) => `rtsp://127.0.0.1:1/${t}`,
    });
    devices.push(cam);
    const you = operator(['1', '7', '2']);
    const flags = await resolveCameraSource(
      { discover: true, discoverAddress: cam.discoveryAddress, user: USER },
      { signal, env: { TRIO_CAMERA_PASSWORD: PASSWORD }, prompter: you },
    );
    expect(flags.source).toMatch(/@127\.0\.0\.1:1\/sd$/);
    expect(you.shown).toEqual([
      `1) ${cam.host}  FK-1  "Gate"  credentials required`,
      'camera [1-1, default 1]: ',
      '1) main (token hd, H264 320x240 10fps)',
      '2) sub (token sd, H264 320x240 10fps)',
      'profile [1-2, default 1]: ',
      'pick a number from 1 to 2',
      'profile [1-2, default 1]: ',
    ]);
  });

  it('--discover on a camera that needs credentials, without --user, says so', async () => {
    const cam = await startFakeOnvifDevice({ user: USER, password: PASSWORD, streamUri: () => 'rtsp://x/' });
    devices.push(cam);
    const error = await resolveCameraSource(
      { discover: true, discoverAddress: cam.discoveryAddress },
      { signal, env: {}, prompter: operator(['']) },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `the ONVIF camera ${cam.host} needs credentials: add --user and --password-file`,
    );
  });

  it('parses --discover-address', () => {
    expect(parseDiscoverAddress(undefined)).toEqual({ address: '239.255.255.250', port: 3702 });
    expect(parseDiscoverAddress('10.0.0.5:3702')).toEqual({ address: '10.0.0.5', port: 3702 });
    expect(() => parseDiscoverAddress('10.0.0.5')).toThrow(
      '--discover-address 10.0.0.5: expected ADDRESS:PORT',
    );
  });
});

describe('parseAllowedHosts: --allow-credentials-to', () => {
  it('takes repeated and comma-separated host names and addresses', () => {
    expect(parseAllowedHosts(['cam.local', '10.0.0.5, 10.0.0.6', '[fe80::1]', '::1'])).toEqual([
      'cam.local',
      '10.0.0.5',
      '10.0.0.6',
      '[fe80::1]',
      '::1',
    ]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
  });

  it.each(['10.0.0.5:554', 'rtsp://10.0.0.5', 'cam/1', '', 'a b'])('refuses %j (exit 2)', (host) => {
    expect(() => parseAllowedHosts(host)).toThrow(
      /^--allow-credentials-to .*: expected a host name or address/,
    );
  });
});
