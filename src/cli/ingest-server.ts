import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tokenFromFlags } from '../config/api-key.js';
import { parseByteRate, parseDurationMs, parseMegabytes, parseNumber, parsePort } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { parseFaultSpec } from '../ingest-server/faults.js';
import { IngestServer } from '../ingest-server/server.js';
import { INGEST_SERVER_DEFAULTS, type IngestServerFlags } from './ingest-server-settings.js';

/** `trio-relay ingest-server`: runs until SIGTERM/SIGINT, one line per segment on stdout. */
export async function runIngestServer(flags: IngestServerFlags, stop: AbortSignal): Promise<number> {
  const d = INGEST_SERVER_DEFAULTS;
  const port = parsePort('port', flags.port ?? d.port);
  const readRateBytesPerS =
    flags.readRate === undefined ? undefined : parseByteRate('read-rate', flags.readRate);
  const faults = (flags.fault ?? []).map((spec) => {
    try {
      return parseFaultSpec(spec);
    } catch (error) {
      throw new ConfigError(`--fault ${spec}: ${(error as Error).message}`);
    }
  });
  const timeout = { min: 10, max: 3_600_000 };
  const maxStoreBytes =
    flags.maxStoreMb === undefined
      ? undefined
      : parseMegabytes('max-store-mb', flags.maxStoreMb, { min: 1, max: 1024 ** 3, what: 'MB' });
  const count = (flag: string, value: number | string) =>
    parseNumber(flag, value, { min: 1, max: 1_000_000, integer: true, what: 'a whole number' });
  const server = await IngestServer.start({
    host: flags.host ?? d.host,
    port,
    outDir: resolve(flags.out ?? d.out),
    // TRIO_TOKEN arrives as --token.
    token: tokenFromFlags(flags),
    insecure: flags.insecure ?? false,
    headersTimeoutMs: parseDurationMs('headers-timeout', flags.headersTimeout ?? d.headersTimeout, timeout),
    bodyTimeoutMs: parseDurationMs('body-timeout', flags.bodyTimeout ?? d.bodyTimeout, timeout),
    maxStoreBytes,
    maxCameras: count('max-cameras', flags.maxCameras ?? d.maxCameras),
    maxConnections: count('max-connections', flags.maxConnections ?? d.maxConnections),
    faults,
    readRateBytesPerS,
    tls: readTls(flags),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const limit = readRateBytesPerS === undefined ? '' : `, reading at most ${flags.readRate}`;
  const store = maxStoreBytes === undefined ? '' : ` (at most ${flags.maxStoreMb} MB)`;
  // The page needs the key too; it is never printed: the operator adds it to the address.
  const key = server.hasToken ? ' (append #key=<your token> to the address)' : '';
  process.stdout.write(`viewer: ${server.viewerUrl}${key}\n`);
  process.stdout.write(
    `ingest-server listening on ${server.url}, storing in ${server.outDir}${store}${limit}\n`,
  );
  await new Promise<void>((done) => {
    if (stop.aborted) done();
    else stop.addEventListener('abort', () => done(), { once: true });
  });
  await server.close();
  return 0;
}

/** --tls-cert and --tls-key, both or neither: https with that certificate. */
function readTls(flags: IngestServerFlags): { cert: Buffer; key: Buffer } | undefined {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return undefined;
  if (flags.tlsCert === undefined || flags.tlsKey === undefined)
    throw new ConfigError('--tls-cert and --tls-key go together: give both, or neither for plain http');
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`--${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
    }
  };
  return { cert: read('tls-cert', flags.tlsCert), key: read('tls-key', flags.tlsKey) };
}
