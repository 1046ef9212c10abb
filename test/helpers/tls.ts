import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** A throwaway certificate authority and a leaf for 127.0.0.1, made with Debian's openssl. */
export interface TestPki {
  readonly dir: string;
  /** The CA certificate (PEM file and text): what --ca-file / NODE_EXTRA_CA_CERTS are given. */
  readonly caFile: string;
  readonly ca: string;
  /** The server's certificate and key, signed by the CA, for IP 127.0.0.1 only. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makePki(name = 'trio-relay test CA'): TestPki {
  const dir = tempDir('pki-');
  openssl(dir, [
    'req',
    '-x509',
    ...KEY,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
  openssl(dir, ['req', ...KEY, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(dir, [
    ...['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext'],
  ]);
  const file = (n: string) => join(dir, n);
  return {
    dir,
    caFile: file('ca.pem'),
    ca: readFileSync(file('ca.pem'), 'utf8'),
    certFile: file('leaf.pem'),
    keyFile: file('leaf.key'),
    cert: readFileSync(file('leaf.pem'), 'utf8'),
    key: readFileSync(file('leaf.key'), 'utf8'),
  };
}

/** A self-signed certificate for 127.0.0.1 (no CA at all). */
export function makeSelfSigned(): { cert: string; key: string } {
  const dir = tempDir('pki-self-');
  openssl(dir, [
    ...['req', '-x509', ...KEY, '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2'],
    ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  return {
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}
