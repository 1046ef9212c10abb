import { IngestServer } from '../../src/ingest-server/server.js';
import { TOKEN } from './relay-run.js';
import { tempDir } from './temp-dir.js';

/** The local ingest in-process on a free loopback port, with the test token and a fresh folder. */
export function startTestIngest(): Promise<IngestServer> {
  return IngestServer.start({ port: 0, outDir: tempDir('e2e-ingest-'), token: TOKEN });
}
