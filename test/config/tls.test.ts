import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/config/loopback.js';
import { type RelayFlags, resolveRelayConfig } from '../../src/config/relay-config.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp-dir.js';
import { makePki } from '../helpers/tls.js';

const base: RelayFlags = { source: 'testsrc', token: 'tok-123' };

function error(flags: RelayFlags, env: NodeJS.ProcessEnv = {}): string {
  try {
    resolveRelayConfig({ ...base, ...flags }, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('--allow-insecure-http: the API key goes over plain http only to this machine', () => {
  it.each([
    'http://ingest.example.com',
    'http://10.0.0.5:8080',
    'http://192.168.1.1',
    'http://[fd00::1]:8080',
    'http://127.0.0.1.example.com',
  ])('refuses %s before anything starts', (cloud) => {
    const message = error({ cloud });
    expect(message).toMatch(/refusing to send the API key over plain http/);
    expect(message).toContain('--allow-insecure-http');
    expect(message).toContain(new URL(cloud).host);
  });

  it.each([
    'http://127.0.0.1:8080',
    'http://127.1.2.3',
    'http://localhost:8080',
    'http://cam.localhost',
    'http://[::1]:8080',
  ])('allows loopback %s', (cloud) => {
    expect(resolveRelayConfig({ ...base, cloud }, {}).camera.cloud).toBe(cloud);
  });

  it('allows any http host with --allow-insecure-http, and https always', () => {
    expect(
      resolveRelayConfig({ ...base, cloud: 'http://10.0.0.5', allowInsecureHttp: true }, {}).camera.cloud,
    ).toBe('http://10.0.0.5');
    expect(resolveRelayConfig({ ...base, cloud: 'https://10.0.0.5' }, {}).camera.cloud).toBe(
      'https://10.0.0.5',
    );
  });

  it('masks a password in the refusal', () => {
    expect(error({ cloud: 'http://u:s3cret-pw@10.0.0.5' })).not.toContain('s3cret-pw');
  });

  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['[::1]', true],
    ['[::ffff:7f00:1]', true],
    ['::ffff:127.0.0.2', true],
    ['127.0.0.2', true],
    ['cam.localhost', true],
    ['10.0.0.1', false],
    ['127.999.0.1', false],
    ['localhost.example.com', false],
    ['[::ffff:a00:1]', false],
    ['example.com', false],
  ])('isLoopback(%s) is %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe('--ca-file', () => {
  const pki = makePki();
  const dir = tempDir('ca-file-');

  it('is off by default: Node trusts its roots and NODE_EXTRA_CA_CERTS by itself', () => {
    expect(resolveRelayConfig(base, { NODE_EXTRA_CA_CERTS: pki.caFile }).process.extraCa).toBeUndefined();
  });

  it('adds the file to what is trusted, NODE_EXTRA_CA_CERTS kept', () => {
    const other = makePki('another CA');
    expect(resolveRelayConfig({ ...base, caFile: pki.caFile }, {}).process.extraCa).toEqual([pki.ca.trim()]);
    expect(
      resolveRelayConfig({ ...base, caFile: pki.caFile }, { NODE_EXTRA_CA_CERTS: other.caFile }).process
        .extraCa,
    ).toEqual([other.ca.trim(), pki.ca.trim()]);
  });

  it.each([
    ['missing', () => join(dir, 'nope.pem'), /--ca-file .*nope\.pem: cannot read it \(ENOENT\)/],
    [
      'not PEM',
      () => {
        writeFileSync(join(dir, 'junk.pem'), 'hello');
        return join(dir, 'junk.pem');
      },
      /no PEM certificate in it/,
    ],
    [
      'a broken certificate',
      () => {
        writeFileSync(join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
        return join(dir, 'bad.pem');
      },
      /does not parse/,
    ],
  ])('a %s file is a ConfigError naming it', (_what, file, re) => {
    expect(error({ caFile: file() })).toMatch(re);
  });
});
