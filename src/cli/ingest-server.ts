import { resolve } from 'node:path';
import { parseByteRate, parsePort } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { parseFaultSpec } from '../ingest-server/faults.js';
import { IngestServer } from '../ingest-server/server.js';

export interface IngestServerFlags {
  port: string;
  host: string;
  out: string;
  token?: string | undefined;
  fault?: string[] | undefined;
  readRate?: string | undefined;
}

/** `trio-relay ingest-server`: runs until SIGTERM/SIGINT, one line per segment on stdout. */
export async function runIngestServer(flags: IngestServerFlags, stop: AbortSignal): Promise<number> {
  const port = parsePort('port', flags.port);
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
    host: flags.host,
    port,
    outDir: resolve(flags.out),
    token: flags.token ?? process.env.TRIO_TOKEN,
    faults,
    readRateBytesPerS,
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
