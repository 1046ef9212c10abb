import { afterEach, describe, expect, it } from 'vitest';
import { OnvifError } from '../../src/errors.js';
import { deviceServiceUrl, discoverOnvifDevices, resolveOnvifSource } from '../../src/onvif/index.js';
import { redact } from '../../src/redact.js';
import {
  type FakeOnvifDevice,
  type FakeOnvifOptions,
  startFakeOnvifDevice,
} from '../helpers/onvif-device.js';

const USER = 'operator';
const PASSWORD = 'p@ss:w/o%rd x1';
const streamUri = (token: string) => `rtsp://127.0.0.1:8554/${token}`;

const devices: FakeOnvifDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
});

async function device(options: Partial<FakeOnvifOptions> = {}): Promise<FakeOnvifDevice> {
  const started = await startFakeOnvifDevice({ user: USER, password: PASSWORD, streamUri, ...options });
  devices.push(started);
  return started;
}

async function rejection(promise: Promise<unknown>): Promise<OnvifError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnvifError);
  return error as OnvifError;
}

describe('resolveOnvifSource against a local ONVIF device', () => {
  it('asks the media service for the first profile and injects the credentials, every call signed', async () => {
    const cam = await device({
      profiles: [
        { token: 'p_main', name: 'mainStream', width: 1920, height: 1080 },
        { token: 'p_sub', name: 'subStream', width: 640, height: 360 },
      ],
    });
    const source = await resolveOnvifSource({
      host: '127.0.0.1',
      port: cam.port,
      user: USER,
      password: PASSWORD,
    });
    expect(source.profile).toBe('p_main');
    expect(source.uri).toBe(`rtsp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:8554/p_main`);
    expect(source.profiles.map((p) => [p.token, p.name, p.width, p.height, p.encoding])).toEqual([
      ['p_main', 'mainStream', 1920, 1080, 'H264'],
      ['p_sub', 'subStream', 640, 360, 'H264'],
    ]);
    expect(cam.calls.map((c) => c.operation)).toEqual([
      'GetSystemDateAndTime',
      'GetCapabilities',
      'GetProfiles',
      'GetStreamUri',
    ]);
    expect(cam.calls.slice(1).every((c) => c.authenticated)).toBe(true);
    // A digest only: the password itself never crossed the wire.
    for (const call of cam.calls) expect(call.body).not.toContain(PASSWORD.slice(0, 6));
    expect(redact(source.uri)).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('picks --profile by token or by name (any case)', async () => {
    const cam = await device({
      profiles: [
        { token: 'p_main', name: 'mainStream' },
        { token: 'p_sub', name: 'subStream' },
      ],
    });
    const ask = { host: cam.host, user: USER, password: PASSWORD };
    expect((await resolveOnvifSource({ ...ask, profile: 'p_sub' })).uri).toMatch(/\/p_sub$/);
    expect((await resolveOnvifSource({ ...ask, profile: 'SUBSTREAM' })).profile).toBe('p_sub');
    const error = await rejection(resolveOnvifSource({ ...ask, profile: 'third' }));
    expect(error.code).toBe('ERR_ONVIF_PROFILE');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('has no profile "third"; it has: mainStream (token p_main');
  });

  it('a wrong password is one clear ERR_ONVIF_AUTH line (exit 2) that does not hold it', async () => {
    const cam = await device();
    const error = await rejection(
      resolveOnvifSource({ host: cam.host, user: USER, password: 'wrong-password-1' }),
    );
    expect(error.code).toBe('ERR_ONVIF_AUTH');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`ONVIF device ${cam.host} refused user "${USER}": wrong user or password`);
    const anonymous = await rejection(resolveOnvifSource({ host: cam.host }));
    expect(anonymous.message).toContain('(it needs credentials)');
  });

  it("signs with the device's clock, an hour off ours", async () => {
    const cam = await device({ clockSkewMs: 3_600_000 });
    const source = await resolveOnvifSource({ host: cam.host, user: USER, password: PASSWORD });
    expect(source.profile).toBe('profile_main');
  });

  it('falls back to GetServices when GetCapabilities is not implemented', async () => {
    const cam = await device({ noCapabilities: true });
    await resolveOnvifSource({ host: cam.host, user: USER, password: PASSWORD });
    expect(cam.calls.map((c) => c.operation)).toContain('GetServices');
  });

  it('an anonymous device needs no credentials, and the URI then has none', async () => {
    const cam = await device({ user: undefined });
    expect((await resolveOnvifSource({ host: cam.host })).uri).toBe('rtsp://127.0.0.1:8554/profile_main');
  });

  it('no answer within the timeout, and no device at all, are ERR_ONVIF_UNREACHABLE (exit 4)', async () => {
    const hung = await device({ hang: true });
    const slow = await rejection(resolveOnvifSource({ host: hung.host, timeoutMs: 300 }));
    expect(slow.code).toBe('ERR_ONVIF_UNREACHABLE');
    expect(slow.exitCode).toBe(4);
    expect(slow.message).toBe(`ONVIF device ${hung.host} did not answer within 0.3s`);
    const closed = await device();
    const port = closed.port;
    await closed.close();
    const refused = await rejection(resolveOnvifSource({ host: '127.0.0.1', port }));
    expect(refused.message).toContain('cannot be reached (ECONNREFUSED)');
  });

  it("the caller's abort rejects with its own reason, not an ONVIF error", async () => {
    const hung = await device({ hang: true });
    const controller = new AbortController();
    const pending = resolveOnvifSource({ host: hung.host, signal: controller.signal });
    controller.abort('SIGTERM');
    await expect(pending).rejects.toBe('SIGTERM');
  });
});

describe('discoverOnvifDevices', () => {
  it('lists the device that answered the probe: address, model, name, whether it needs credentials', async () => {
    const cam = await device({ name: 'Front Door', model: 'FK-9' });
    const open = await device({ user: undefined, name: 'Yard' });
    const [found] = await discoverOnvifDevices({ target: target(cam), timeoutMs: 500 });
    expect(found).toMatchObject({
      address: cam.host,
      name: 'Front Door',
      model: 'FK-9',
      credentials: 'required',
      xaddrs: [`http://${cam.host}/onvif/device_service`],
    });
    const [anonymous] = await discoverOnvifDevices({ target: target(open), timeoutMs: 500 });
    expect(anonymous).toMatchObject({ name: 'Yard', manufacturer: 'Fake', credentials: 'not required' });
  });

  it('nothing answering is an empty list after the timeout', async () => {
    const started = Date.now();
    expect(await discoverOnvifDevices({ target: { address: '127.0.0.1', port: 9 }, timeoutMs: 200 })).toEqual(
      [],
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe('deviceServiceUrl', () => {
  it.each([
    ['cam.local', undefined, 'http://cam.local:80/onvif/device_service'],
    ['10.0.0.5', 8000, 'http://10.0.0.5:8000/onvif/device_service'],
    ['10.0.0.5:2020', undefined, 'http://10.0.0.5:2020/onvif/device_service'],
    ['fe80::1', undefined, 'http://[fe80::1]:80/onvif/device_service'],
    ['http://10.0.0.5/onvif/device', undefined, 'http://10.0.0.5/onvif/device'],
    ['http://10.0.0.5', 8080, 'http://10.0.0.5:8080/onvif/device_service'],
  ])('%s port %s → %s', (host, port, url) => {
    expect(deviceServiceUrl(host, port)).toBe(url);
  });
});

function target(cam: FakeOnvifDevice) {
  const [address, port] = cam.discoveryAddress.split(':');
  return { address: address!, port: Number(port) };
}
