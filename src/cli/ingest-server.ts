import { resolve } from 'node:path';
import { parsePort } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { parseFaultSpec } from '../ingest-server/faults.js';
import { IngestServer } from '../ingest-server/server.js';
import { INGEST_SERVER_DEFAULTS, type IngestServerFlags } from './ingest-server-settings.js';

/** `trio-relay ingest-server`: runs until SIGTERM/SIGINT, one line per segment on stdout. */
export async function runIngestServer(flags: IngestServerFlags, stop: AbortSignal): Promise<number> {
  const d = INGEST_SERVER_DEFAULTS;
  const port = parsePort('port', flags.port ?? d.port);
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
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`ingest-server listening on ${server.url}, storing in ${server.outDir}\n`);
  await new Promise<void>((done) => {
    if (stop.aborted) done();
    else stop.addEventListener('abort', () => done(), { once: true });
  });
  await server.close();
  return 0;
}
