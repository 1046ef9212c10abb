import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestServer } from '../../src/ingest-server/server.js';
import { TOKEN } from './relay-run.js';

/** The local ingest in-process on a free loopback port, with the test token and a fresh folder. */
export function startTestIngest(): Promise<IngestServer> {
  return IngestServer.start({ port: 0, outDir: mkdtempSync(join(tmpdir(), 'e2e-ingest-')), token: TOKEN });
}
