import { describe, expect, it } from 'vitest';
import { matchNoProxy, resolveProxyRoute } from '../../src/config/proxy.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';

const HTTPS = 'https://ingest.example.com';
const HTTP = 'http://ingest.example.com:8080';

describe('resolveProxyRoute', () => {
  it('no proxy anywhere: direct', () => {
    expect(resolveProxyRoute(HTTPS, undefined, {})).toMatchObject({ kind: 'direct' });
  });

  it('an https ingest takes https_proxy, then HTTPS_PROXY; the lower case wins (curl, undici)', () => {
    expect(resolveProxyRoute(HTTPS, undefined, { HTTPS_PROXY: 'http://up:3128' })).toEqual({
      kind: 'proxy',
      url: 'http://up:3128',
      from: 'HTTPS_PROXY',
    });
    expect(
      resolveProxyRoute(HTTPS, undefined, { HTTPS_PROXY: 'http://up:3128', https_proxy: 'http://low:3128' }),
    ).toMatchObject({ url: 'http://low:3128', from: 'https_proxy' });
  });

  it('an http ingest takes http_proxy / HTTP_PROXY; HTTP_PROXY is not used for an https ingest (curl)', () => {
    expect(resolveProxyRoute(HTTP, undefined, { HTTP_PROXY: 'http://p:3128' })).toMatchObject({
      kind: 'proxy',
      from: 'HTTP_PROXY',
    });
    expect(resolveProxyRoute(HTTP, undefined, { https_proxy: 'http://p:3128' })).toMatchObject({
      kind: 'direct',
    });
    expect(resolveProxyRoute(HTTPS, undefined, { HTTP_PROXY: 'http://p:3128' })).toMatchObject({
      kind: 'direct',
    });
  });

  it('--proxy (or TRIO_PROXY, the config file) beats the environment; "none" turns the proxy off', () => {
    const env = { HTTPS_PROXY: 'http://env:3128' };
    expect(resolveProxyRoute(HTTPS, 'http://flag:8080', env)).toMatchObject({
      url: 'http://flag:8080',
      from: '--proxy',
    });
    expect(resolveProxyRoute(HTTPS, 'none', env)).toEqual({ kind: 'direct', why: '--proxy none' });
  });

  it('NO_PROXY bypasses the proxy for a listed ingest, --proxy included (curl); loopback is not implied', () => {
    const local = 'http://127.0.0.1:8080';
    expect(resolveProxyRoute(local, 'http://p:3128', { NO_PROXY: 'localhost,127.0.0.1' })).toEqual({
      kind: 'direct',
      why: 'NO_PROXY lists 127.0.0.1',
    });
    expect(resolveProxyRoute(local, 'http://p:3128', {})).toMatchObject({ kind: 'proxy' });
    expect(resolveProxyRoute(local, 'http://p:3128', { no_proxy: '', NO_PROXY: '127.0.0.1' })).toMatchObject({
      kind: 'direct',
    });
  });

  it('a proxy without a scheme is http:// (curl)', () => {
    expect(resolveProxyRoute(HTTPS, undefined, { https_proxy: 'proxy.corp:3128' })).toMatchObject({
      url: 'http://proxy.corp:3128',
    });
  });

  it('a bad proxy URL is one line naming where it came from, the password masked: exit 2', () => {
    const bad = (flag: string | undefined, env: NodeJS.ProcessEnv) => () =>
      resolveProxyRoute(HTTPS, flag, env);
    expect(bad('socks5://u:pw-abcd@p:1080', {})).toThrow(ConfigError);
    expect(bad('socks5://u:pw-abcd@p:1080', {})).toThrow(
      '--proxy socks5://u:***@p:1080: expected an http:// or https:// proxy (the relay speaks HTTP CONNECT to it)',
    );
    expect(bad(undefined, { HTTPS_PROXY: 'http://u:pw-efgh@p:3128/path' })).toThrow(
      'HTTPS_PROXY=http://u:***@p:3128/path: expected no path, query or fragment',
    );
    expect(bad('not a url', {})).toThrow(/^--proxy not a url: not a valid URL/);
  });

  it('registers the proxy password and its Basic credentials as secrets', () => {
    resolveProxyRoute(HTTPS, 'http://alice:Zq9-proxy-pw@p:3128', {});
    const basic = Buffer.from('alice:Zq9-proxy-pw').toString('base64');
    expect(redact(`pw Zq9-proxy-pw header Basic ${basic}`)).toBe('pw *** header Basic ***');
  });
});

describe('matchNoProxy', () => {
  it.each([
    ['*', 'any.host', 443, '*'],
    ['example.com', 'ingest.example.com', 443, 'example.com'],
    ['.example.com', 'ingest.example.com', 443, '.example.com'],
    ['*.example.com', 'example.com', 443, '*.example.com'],
    ['example.com:8443', 'ingest.example.com', 8443, 'example.com:8443'],
    ['10.0.0.0/8', '10.1.2.3', 443, '10.0.0.0/8'],
    ['::1', '[::1]', 80, '::1'],
    ['[::1]:80', '[::1]', 80, '[::1]:80'],
    ['a.test other.test, 127.0.0.1', '127.0.0.1', 80, '127.0.0.1'],
  ])('%s matches %s:%i', (list, host, port, entry) => {
    expect(matchNoProxy(list, host, port)).toBe(entry);
  });

  it.each([
    ['example.com', 'badexample.com', 443],
    ['example.com:8443', 'example.com', 443],
    ['10.0.0.0/8', '11.0.0.1', 443],
    ['10.0.0.0/8', 'ten.example', 443],
    ['127.0.0.1', '127.0.0.2', 80],
  ])('%s does not match %s:%i', (list, host, port) => {
    expect(matchNoProxy(list, host, port)).toBeUndefined();
  });
});
