import { resolve } from 'node:path';
import { parsePort } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { parseFaultSpec } from '../ingest-server/faults.js';
import { IngestServer } from '../ingest-server/server.js';

export interface IngestServerFlags {
  port: string;
  host: string;
  out: string;
  token?: string | undefined;
  fault?: string[] | undefined;
}

/** `trio-relay ingest-server`: runs until SIGTERM/SIGINT, one line per segment on stdout. */
export async function runIngestServer(flags: IngestServerFlags, stop: AbortSignal): Promise<number> {
  const port = parsePort('port', flags.port);
  const faults = (flags.fault ?? []).map((spec) => {
    try {
      return parseFaultSpec(spec);
    } catch (error) {
      throw new ConfigError(`--fault ${spec}: ${(error as Error).message}`);
    }
  });
  const server = await IngestServer.start({
    host: flags.host,
    port,
    outDir: resolve(flags.out),
    token: flags.token ?? process.env.TRIO_TOKEN,
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
