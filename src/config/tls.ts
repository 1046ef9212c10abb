import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { isLoopback } from './loopback.js';

/** How the relay may talk to the ingest: whom it trusts, and where the key may travel in clear. */

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * `--ca-file`: the PEM certificates to trust besides Node's default roots. An explicit CA list
 * makes Node ignore NODE_EXTRA_CA_CERTS, so that file is read back in here. Undefined without
 * --ca-file: Node's defaults apply, NODE_EXTRA_CA_CERTS included.
 */
export function resolveExtraCa(
  caFile: string | undefined,
  env: NodeJS.ProcessEnv,
): readonly string[] | undefined {
  if (caFile === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new ConfigError(`--ca-file ${caFile}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new ConfigError(
      `--ca-file ${caFile}: no PEM certificate in it (expected "-----BEGIN CERTIFICATE-----")`,
    );
  }
  for (const pem of certificates) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new ConfigError(
        `--ca-file ${caFile}: a certificate in it does not parse (${(error as Error).message})`,
      );
    }
  }
  return [...extraCaFromEnv(env), ...certificates];
}

/** NODE_EXTRA_CA_CERTS as Node reads it; an unreadable file is skipped (Node warned at start-up). */
function extraCaFromEnv(env: NodeJS.ProcessEnv): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').match(PEM_CERTIFICATE) ?? [];
  } catch {
    return [];
  }
}

/**
 * The API key travels in a header: over plain http only to this machine itself, unless the
 * operator says so with --allow-insecure-http.
 */
export function checkCloudTransport(cloud: string, allowInsecureHttp: boolean): void {
  const url = new URL(cloud);
  if (url.protocol !== 'http:' || allowInsecureHttp || isLoopback(url.hostname)) return;
  throw new ConfigError(
    `--cloud ${redactUrl(cloud)}: refusing to send the API key over plain http to ${url.host}, which is not this machine; use https://, or pass --allow-insecure-http`,
  );
}
