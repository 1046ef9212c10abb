import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDurationMs, MAX_TIMER_MS } from '../../src/config/parse.js';
import {
  RELAY_BOUNDS,
  RELAY_DEFAULTS,
  type RelayFlags,
  resolveRelayConfig,
} from '../../src/config/relay-config.js';
import { defaultSpoolRoot } from '../../src/config/spool-dir.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const base = { source: 'rtsp://cam/stream', token: 'tok-123' };

function error(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    resolveRelayConfig({ ...base, ...flags }, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveRelayConfig', () => {
  it('has the Python relay defaults', () => {
    const c = resolveRelayConfig(base, {}).camera;
    expect(c).toMatchObject({
      cloud: 'https://trio-relay.machinefi.com',
      fps: 1,
      segmentDurationS: 10,
      codec: 'h264',
      audio: 'off',
    });
    expect(c.uploadTimeoutMs).toBe(30_000);
    expect(c.maxRestarts).toBe(Number.POSITIVE_INFINITY);
    expect(c.stallTimeoutMs).toBe(30_000);
    expect(c.maxSpoolBytes).toBe(512 * 1024 * 1024);
    // The per-user default under this run's TMPDIR (test/setup/global.ts), made 0700.
    expect(c.spoolDir).toBe(defaultSpoolRoot());
    expect(statSync(c.spoolDir).mode & 0o777).toBe(0o700);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes the token from --token-file, then TRIO_TOKEN', () => {
    const file = join(tempDir('cfg-'), 'token');
    writeFileSync(file, 'from-file\n');
    expect(resolveRelayConfig({ source: 'testsrc', tokenFile: file }, {}).camera.token).toBe('from-file');
    expect(resolveRelayConfig({ source: 'testsrc' }, { TRIO_TOKEN: 'from-env' }).camera.token).toBe(
      'from-env',
    );
  });

  it.each([
    [{ cloud: 'ftp://x' }, /--cloud ftp:\/\/x: expected an http/],
    [{ cloud: 'not a url' }, /--cloud .*not a valid URL/],
    [{ source: 'rtsp://' }, /--source/],
    [{ source: 'gopher://cam' }, /unsupported scheme/],
    [{ source: '/nonexistent/file.mp4' }, /cannot read the file/],
    [{ resolution: '640by480' }, /--resolution 640by480/],
    [{ resolution: '641x480' }, /even sides/],
    [{ fps: '-1' }, /--fps -1: expected frames per second from 0.1 to 120/],
    [{ segmentDuration: '0' }, /--segment-duration 0/],
    [{ uploadTimeout: '-5' }, /--upload-timeout -5/],
    [{ drainTimeout: 'soon' }, /--drain-timeout soon/],
    [{ codec: 'h265' }, /--codec h265: expected one of h264, copy/],
    [{ audio: 'opus' }, /--audio opus: expected one of off, copy, aac/],
    [
      { token: undefined, tokenFile: '/nonexistent/token' },
      /--token-file \/nonexistent\/token: cannot read it \(ENOENT\)/,
    ],
    [{ spoolDir: '/proc/version/spool' }, /--spool-dir .*not a writable directory/],
    [{ tokenFile: '/etc/hostname' }, /either --token or --token-file/],
    [{ cameraId: 'bad id!' }, /--camera-id/],
    [{ maxRestarts: '-2' }, /--max-restarts/],
  ])('rejects %o', (flags, message) => {
    expect(error(flags)).toMatch(message);
  });

  it('metrics are off by default, on loopback when asked; the backlog limit is 60 s or 3 segments', () => {
    const off = resolveRelayConfig(base, {});
    expect([off.process.metricsPort, off.process.metricsHost, off.camera.readyMaxBacklogMs]).toEqual([
      undefined,
      '127.0.0.1',
      60_000,
    ]);
    const on = resolveRelayConfig({ ...base, metricsPort: '0', metricsHost: '[::1]' }, {});
    expect([on.process.metricsPort, on.process.metricsHost]).toEqual([0, '::1']);
    expect(resolveRelayConfig({ ...base, segmentDuration: '30' }, {}).camera.readyMaxBacklogMs).toBe(90_000);
    expect(resolveRelayConfig({ ...base, readyMaxBacklog: '5m' }, {}).camera.readyMaxBacklogMs).toBe(300_000);
    expect(error({ metricsPort: '65536' })).toMatch(
      /^--metrics-port 65536: expected a TCP port from 0 to 65535/,
    );
    expect(error({ metricsPort: 'http' })).toMatch(/^--metrics-port http: expected a TCP port/);
    expect(error({ metricsHost: 'http://x' })).toMatch(/^--metrics-host http:\/\/x: expected an IP address/);
    expect(error({ readyMaxBacklog: '15s' })).toMatch(
      /^--ready-max-backlog 15s: expected a duration from 20s \(2 × --segment-duration\)/,
    );
  });

  it('refuses a key no HTTP header carries, naming where it came from, never showing it', () => {
    const file = join(tempDir('cfg-'), 'token');
    writeFileSync(file, 'kéy-5678\n');
    for (const [flags, env, from] of [
      [{ token: 'k y-5678' }, {}, '--token'],
      [{ token: 'k✓-5678' }, {}, '--token'],
      [{ token: undefined }, { TRIO_TOKEN: 'k\t-5678' }, 'TRIO_TOKEN'],
      [{ token: undefined, tokenFile: file }, {}, `--token-file ${file}`],
    ] as const) {
      const message = error(flags, env);
      expect(message.startsWith(`${from}: the API key must be printable ASCII`)).toBe(true);
      expect(message).not.toContain('5678');
    }
  });

  it('caps --name at 200 characters', () => {
    expect(resolveRelayConfig({ ...base, name: 'é'.repeat(200) }, {}).camera.name).toHaveLength(200);
    expect(error({ name: 'n'.repeat(201) })).toBe('--name: expected at most 200 characters, got 201');
  });

  it('requires a token and never echoes a URL password', () => {
    expect(error({ token: undefined })).toMatch(/no API token/);
    expect(error({ source: 'gopher://admin:hunter2@cam' })).not.toContain('hunter2');
  });
});

type BoundKey = keyof typeof RELAY_BOUNDS;
const flagOf = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// Other flags a bound depends on, set so that only the flag under test decides.
const around: Partial<Record<BoundKey, RelayFlags>> = {
  fps: { segmentDuration: 10 },
  segmentDuration: { fps: 2 },
  stallTimeout: { fps: 2, segmentDuration: 0.5 },
  retryMax: { retryBase: '10ms' },
  readyMaxBacklog: { fps: 2, segmentDuration: 0.5 },
};

/** Values just inside and just outside each bound, as an operator would type them. */
function edges(key: BoundKey): { inside: string[]; outside: string[] } {
  const b = RELAY_BOUNDS[key];
  if ('what' in b) {
    const step = 'integer' in b ? 1 : 0.01;
    return {
      inside: [String(b.min), String(b.max)],
      outside: [String(Math.round((b.min - step) * 100) / 100), String(b.max + step)],
    };
  }
  return {
    inside: [formatDurationMs(b.min), formatDurationMs(b.max)],
    outside: [b.min === 0 ? '-1ms' : `${b.min - 1}ms`, `${b.max + 1}ms`],
  };
}

describe('bounds (issue 10)', () => {
  const keys = Object.keys(RELAY_BOUNDS) as BoundKey[];

  it('no duration can exceed a Node timer, and every default is within its bound', () => {
    for (const key of keys) {
      const b = RELAY_BOUNDS[key];
      expect(b.min, key).toBeLessThan(b.max);
      if (!('what' in b)) expect(b.max, key).toBeLessThanOrEqual(MAX_TIMER_MS);
    }
    const c = resolveRelayConfig(base, {});
    const ms = (v: string) =>
      Number.parseFloat(v) * { ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[v.replace(/[\d.]/g, '') as 's'];
    for (const [key, value] of Object.entries(RELAY_DEFAULTS)) {
      if (!(key in RELAY_BOUNDS)) continue;
      const b = RELAY_BOUNDS[key as BoundKey];
      const n = typeof value === 'string' ? ms(value) : value;
      expect(n, key).toBeGreaterThanOrEqual(b.min);
      expect(n, key).toBeLessThanOrEqual(b.max);
    }
    expect(c.camera.stallTimeoutMs).toBeLessThanOrEqual(RELAY_BOUNDS.stallTimeout.max);
  });

  it.each(keys.map((k) => [flagOf(k), k] as const))(
    '--%s: accepts both ends, rejects just outside with flag, value and range',
    (_flag, key) => {
      const { inside, outside } = edges(key);
      for (const value of inside) {
        expect(() => resolveRelayConfig({ ...base, ...around[key], [key]: value }, {}), value).not.toThrow();
      }
      for (const value of outside) {
        const message = error({ ...around[key], [key]: value });
        expect(message).toMatch(new RegExp(`^--${flagOf(key)} ${value.replace('.', '\\.')}: expected `));
        expect(message).toContain(` to ${inside[1]}`);
      }
    },
  );

  it.each([
    [{ uploadTimeout: '1000h' }, '--upload-timeout 1000h: expected a duration from 1s to 10m'],
    [{ uploadTimeout: '2000h' }, '--upload-timeout 2000h: expected a duration from 1s to 10m'],
    [{ maxSpoolMb: '0.0001' }, '--max-spool-mb 0.0001: expected MB from 1 to 1048576'],
    [
      { segmentDuration: '0.001' },
      '--segment-duration 0.001: expected seconds from 1 (one frame at --fps 1) to 600',
    ],
    [{ staleAfter: '30d' }, '--stale-after 30d: expected a duration from 1s to 24d'],
    [{ uploadConcurrency: '2.5' }, '--upload-concurrency 2.5: expected a whole number from 1 to 16'],
  ])('the inputs of issue 10: %j', (flags, message) => {
    expect(error(flags)).toMatch(new RegExp(`^${message.replace(/[.()]/g, '\\$&')}`));
  });

  it('a re-encoded segment holds at least one frame; a copied one is cut at keyframes', () => {
    expect(error({ fps: '0.5', segmentDuration: '1' })).toMatch(
      /^--segment-duration 1: expected seconds from 2 \(one frame at --fps 0.5\) to 600$/,
    );
    expect(error({ fps: '0.3', segmentDuration: '3.3' })).toMatch(/from 3.334 \(one frame at --fps 0.3\)/);
    expect(
      resolveRelayConfig({ ...base, fps: '0.5', segmentDuration: '2' }, {}).camera.segmentDurationS,
    ).toBe(2);
    expect(
      resolveRelayConfig({ ...base, codec: 'copy', segmentDuration: '0.5' }, {}).camera.segmentDurationS,
    ).toBe(0.5);
  });

  it('--retry-max is at least --retry-base; the default cap covers any base', () => {
    expect(error({ retryBase: '5s', retryMax: '2s' })).toMatch(
      /^--retry-max 2s: expected a duration from 5s \(--retry-base\) to 1h/,
    );
    const c = resolveRelayConfig({ ...base, retryBase: '60s' }, {});
    expect([c.process.retryBaseMs, c.process.retryMaxMs]).toEqual([60_000, 60_000]);
  });

  it('--stall-timeout is at least 2 segments; its default is 3 segments (at least 3 s)', () => {
    expect(error({ segmentDuration: '10', stallTimeout: '19s' })).toMatch(
      /^--stall-timeout 19s: expected a duration from 20s \(2 × --segment-duration\) to 1h/,
    );
    expect(
      resolveRelayConfig({ ...base, segmentDuration: '10', stallTimeout: '20s' }, {}).camera.stallTimeoutMs,
    ).toBe(20_000);
    const stall = (flags: RelayFlags) => resolveRelayConfig({ ...base, ...flags }, {}).camera.stallTimeoutMs;
    expect(stall({ segmentDuration: '1.5' })).toBe(4500);
    expect(stall({ segmentDuration: '600' })).toBe(1_800_000);
    expect(stall({ fps: '2', segmentDuration: '0.5' })).toBe(3000);
  });

  it('rounds sizes and durations to whole bytes and ms', () => {
    const c = resolveRelayConfig({ ...base, maxSpoolMb: '1.3', uploadTimeout: '1.0005s' }, {});
    expect(c.camera.maxSpoolBytes).toBe(Math.round(1.3 * 1024 * 1024));
    expect(c.camera.uploadTimeoutMs).toBe(1001);
  });

  it('a bad flag is reported before the spool dir is created', () => {
    const root = join(tempDir('cfg-'), 'spool');
    expect(error({ spoolDir: root, uploadTimeout: '1000h' })).toMatch(/--upload-timeout/);
    expect(error({ spoolDir: root, token: undefined })).toMatch(/no API token/);
    expect(existsSync(root)).toBe(false);
    resolveRelayConfig({ ...base, spoolDir: root }, {});
    expect(readdirSync(root)).toEqual([]);
  });
});
