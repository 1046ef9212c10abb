import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseByteRate, parsePort } from '../config/parse.js';
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
  const server = await IngestServer.start({
    host: flags.host ?? d.host,
    port,
    outDir: resolve(flags.out ?? d.out),
    token: flags.token,
    faults,
    readRateBytesPerS,
    tls: readTls(flags),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const limit = readRateBytesPerS === undefined ? '' : `, reading at most ${flags.readRate}`;
  process.stdout.write(`ingest-server listening on ${server.url}, storing in ${server.outDir}${limit}\n`);
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
