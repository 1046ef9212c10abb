import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/config/parse.js';
import { resolveRelayConfig } from '../../src/config/relay-config.js';
import { ConfigError } from '../../src/errors.js';

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
    const c = resolveRelayConfig(base, {});
    expect(c).toMatchObject({
      cloud: 'https://trio-relay.machinefi.com',
      fps: 1,
      segmentDurationS: 10,
      codec: 'h264',
    });
    expect(c.uploadTimeoutMs).toBe(30_000);
    expect(c.maxRestarts).toBe(Number.POSITIVE_INFINITY);
    expect(c.stallTimeoutMs).toBe(30_000);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes the token from --token-file, then TRIO_TOKEN', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'token');
    writeFileSync(file, 'from-file\n');
    expect(resolveRelayConfig({ source: 'testsrc', tokenFile: file }, {}).token).toBe('from-file');
    expect(resolveRelayConfig({ source: 'testsrc' }, { TRIO_TOKEN: 'from-env' }).token).toBe('from-env');
  });

  it.each([
    [{ cloud: 'ftp://x' }, /--cloud ftp:\/\/x: expected an http/],
    [{ cloud: 'not a url' }, /--cloud .*not a valid URL/],
    [{ source: 'rtsp://' }, /--source/],
    [{ source: 'gopher://cam' }, /unsupported scheme/],
    [{ source: '/nonexistent/file.mp4' }, /cannot read the file/],
    [{ resolution: '640by480' }, /--resolution 640by480/],
    [{ resolution: '641x480' }, /even sides/],
    [{ fps: '-1' }, /--fps -1: expected a positive number/],
    [{ segmentDuration: '0' }, /--segment-duration 0/],
    [{ uploadTimeout: '-5' }, /--upload-timeout -5/],
    [{ drainTimeout: 'soon' }, /--drain-timeout soon/],
    [{ codec: 'h265' }, /--codec h265: expected one of h264, copy/],
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

  it('requires a token and never echoes a URL password', () => {
    expect(error({ token: undefined })).toMatch(/no API token/);
    expect(error({ source: 'gopher://admin:hunter2@cam' })).not.toContain('hunter2');
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['30', 30_000],
    ['1.5', 1500],
    ['250ms', 250],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDurationMs('x', text)).toBe(ms);
  });
});
