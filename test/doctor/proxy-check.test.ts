import { describe, expect, it } from 'vitest';
import type { ProxyRoute } from '../../src/config/proxy.js';
import { checkProxy } from '../../src/doctor/proxy-check.js';
import { TLS_CERT_CODES } from '../../src/uploader/classify.js';
import type { HttpOutcome } from '../../src/uploader/transport.js';

const route: ProxyRoute = { kind: 'proxy', url: 'http://relay:s3cret@127.0.0.1:3128', from: 'HTTPS_PROXY' };
const error = (code: string, message: string): HttpOutcome => ({ kind: 'error', code, message });

describe("doctor's proxy line judges a failed HEAD by the relay's TLS rule", () => {
  const insideTls: Array<[string, string]> = [
    ...[...TLS_CERT_CODES.keys()].map((code): [string, string] => [code, 'certificate verify failed']),
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout'],
  ];
  it.each(insideTls)('%s inside the tunnel: the tunnel opened', (code, message) => {
    const check = checkProxy(route, error(code, message));
    expect(check).toMatchObject({ status: 'ok', blocked: false });
    expect(check.detail).toBe(
      'http://relay:***@127.0.0.1:3128 (from HTTPS_PROXY): the tunnel to the ingest opens',
    );
  });

  it.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3128'],
    ['ERR_CONNECT_TIMEOUT', 'no connection within 3 s'],
  ])('%s: the proxy does not answer, the ingest cannot be judged', (code, message) => {
    const check = checkProxy(route, error(code, message));
    expect(check).toMatchObject({ status: 'fail', blocked: true });
    expect(check.detail).toContain(`does not answer: ${code}`);
    expect(check.detail).not.toContain('s3cret');
  });
});
