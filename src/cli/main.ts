import yargs from 'yargs';
import { ConfigError, ExitCode, isRelayError } from '../errors.js';
import { redact } from '../redact.js';
import type { DemoFlags } from './demo.js';
import type { IngestServerFlags } from './ingest-server.js';
import { printError } from './output.js';
import { type EarlySignals, ProcessStop } from './process-stop.js';
import { relayOptions, runRelayCommand } from './relay.js';

type Command = () => Promise<number>;

/**
 * Parse argv, run the chosen subcommand, and turn every error into one line and an exit code.
 * SIGTERM/SIGINT are handled from the first line on (and those the bin shim caught while
 * loading are replayed), so a stop at any moment of start-up is an ordinary stop.
 */
export async function main(argv: string[], early?: EarlySignals): Promise<number> {
  const stop = new ProcessStop(early);
  try {
    return await runCommand(argv, stop);
  } finally {
    stop.dispose();
  }
}

async function runCommand(argv: string[], stop: ProcessStop): Promise<number> {
  // A log reader that goes away (a closed pipe) must not take the relay down with it.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  let command: Command | undefined;
  let json = argv.includes('--json');
  const parser = yargs(argv)
    .scriptName('trio-relay')
    .usage(
      '$0 [relay] --source URL --token T [options]\n\nRelay a camera feed as MPEG-TS segments to an HTTP ingest.',
    )
    .command(['relay', '$0'], 'relay a camera to the cloud ingest (default)', relayOptions, (args) => {
      json = Boolean(args.json);
      command = () => runRelayCommand(args, stop);
    })
    .command(
      'ingest-server',
      'run a local ingest that stores what it receives',
      (y) =>
        y
          .option('port', { type: 'string', default: '8080', describe: 'TCP port (0 = any free one)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
          .option('out', {
            type: 'string',
            default: './trio-ingest',
            describe: 'folder for segments and ledgers',
          })
          .option('token', {
            type: 'string',
            describe: 'require this X-API-Key (default: TRIO_TOKEN, else none)',
          })
          .option('fault', {
            type: 'string',
            array: true,
            describe: 'inject a fault, e.g. 503x5, hangx2, down:30s',
          })
          .option('read-rate', {
            type: 'string',
            describe:
              'read segment bodies no faster than this, all connections together (a slow link), e.g. 4Mbit/s',
          })
          .option('tls-cert', {
            type: 'string',
            describe: 'serve https with this PEM certificate (with --tls-key)',
          })
          .option('tls-key', { type: 'string', describe: 'PEM private key of --tls-cert' }),
      (args) => {
        // Loaded on demand: the relay itself never needs the ingest server's code.
        command = async () =>
          (await import('./ingest-server.js')).runIngestServer(args as IngestServerFlags, stop.signal);
      },
    )
    .command(
      'doctor',
      'check ffmpeg, the camera, the ingest, TLS, the API key, the spool and the clock (same flags as the relay)',
      relayOptions,
      (args) => {
        json = Boolean(args.json);
        command = async () => (await import('./doctor.js')).runDoctorCommand(args);
      },
    )
    .command(
      'demo',
      'start a local ingest and relay a synthetic test pattern to it',
      (y) =>
        y
          .option('duration', { type: 'string', default: '20', describe: 'seconds to run' })
          .option('out', {
            type: 'string',
            describe: 'folder for what the ingest receives (default: a temp dir)',
          })
          .option('ffmpeg', { type: 'string', describe: 'ffmpeg binary' }),
      (args) => {
        command = async () => (await import('./demo.js')).runDemo(args as DemoFlags, stop);
      },
    )
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      throw error ?? new ConfigError(message);
    });

  try {
    await parser.parseAsync();
    if (!command) return ExitCode.ok; // --help was printed
    return await command();
  } catch (error) {
    if (isRelayError(error)) {
      printError(error.message, json, error.code);
      return error.exitCode;
    }
    printError(
      `unexpected error: ${redact(error instanceof Error ? (error.stack ?? error.message) : String(error))}`,
      json,
      'ERR_UNEXPECTED',
    );
    return ExitCode.failure;
  }
}
