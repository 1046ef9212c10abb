import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry } from '../../src/ingest-server/ledger.js';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { TOKEN } from '../helpers/relay-run.js';

const READY_MS = 15_000;

export interface IngestProcessOptions {
  /** `--read-rate`, e.g. `16Mbit/s`. */
  readRate?: string;
  /** Reuse a port and folder (a restart after an outage). */
  port?: number;
  outDir?: string;
}

/**
 * `trio-relay ingest-server` as its own process, as a developer runs it: the relay and the
 * baseline client then compete with it for the cores exactly as they would with a real ingest.
 */
export class IngestProcess {
  readonly url: string;
  readonly port: number;
  readonly outDir: string;
  /** Date.now() when it announced it was listening. */
  readonly upAt: number;
  readonly #cli: CliProcess;

  private constructor(cli: CliProcess, port: number, outDir: string, upAt: number) {
    this.#cli = cli;
    this.port = port;
    this.outDir = outDir;
    this.url = `http://127.0.0.1:${port}`;
    this.upAt = upAt;
  }

  static async start(options: IngestProcessOptions = {}): Promise<IngestProcess> {
    const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), 'bench-ingest-'));
    const port = options.port ?? (await freePort());
    const args = ['ingest-server', '--port', String(port), '--out', outDir, '--token', TOKEN];
    if (options.readRate) args.push('--read-rate', options.readRate);
    const cli = startCli(args);
    await cli.waitForOutput(/listening on/, READY_MS, 'stdout');
    return new IngestProcess(cli, port, outDir, Date.now());
  }

  /** Segments accepted so far (one stdout line each). */
  acceptedCount(): number {
    return this.#cli.stdout().match(/ accepted/g)?.length ?? 0;
  }

  /** Resolves once `count` segments were accepted since this process started. */
  waitAccepted(count: number, timeoutMs: number): Promise<void> {
    return this.#cli.waitFor(() => this.acceptedCount() >= count, timeoutMs, `${count} accepted segments`);
  }

  /** Accepted segment rows of the ledger (this folder, across restarts), in arrival order. */
  accepted(camera: string): LedgerEntry[] {
    let text = '';
    try {
      text = readFileSync(join(this.outDir, camera, 'ledger.jsonl'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LedgerEntry)
      .filter((row) => row.event === 'segment' && row.status === 'accepted');
  }

  /** Delete what it stored for `camera` (a finished run): a long suite must not fill the disk. */
  forget(camera: string): void {
    rmSync(join(this.outDir, camera), { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    this.#cli.kill('SIGTERM');
    await this.#cli.exited;
  }
}
