import { isMainThread } from 'node:worker_threads';
import { ExitCode, isRelayError } from '../errors.js';
import { redact } from '../redact.js';
import { type Invocation, parseCommandLine } from './commands.js';
import { printError } from './output.js';
import { type EarlySignals, ProcessStop } from './process-stop.js';
import { SettingSources } from './settings.js';

/**
 * Parse argv, run the chosen subcommand, and turn every error into one line and an exit code.
 * SIGTERM/SIGINT are handled from the first line on (and those the bin shim caught while
 * loading are replayed), so a stop at any moment of start-up is an ordinary stop.
 */
export async function main(argv: string[], early?: EarlySignals): Promise<number> {
  restrictUmask();
  const stop = new ProcessStop(early);
  try {
    return await runCommand(argv, stop);
  } finally {
    stop.dispose();
  }
}

/**
 * Everything this process and its children create is for this user only (files 0600, dirs 0700).
 * ffmpeg creates the segments (mode 0666 & ~umask, so 0644 under the usual 022), and the umask is
 * the one setting that reaches it: inherited across fork/exec by every child, whichever module
 * spawns it, with no shell wrapped around ffmpeg's argv (which may hold the camera's password) and
 * nothing to remember at a new spawn site. Set once, before anything is created; the relay's own
 * files ask for 0600/0700 already. Not possible (nor needed) in a worker thread, which shares it.
 */
function restrictUmask(): void {
  if (isMainThread) process.umask(0o077);
}

async function runCommand(argv: string[], stop: ProcessStop): Promise<number> {
  // A log reader that goes away (a closed pipe) must not take the relay down with it.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  // Until the command line is parsed, guess the error format from what it will likely say.
  let json = argv.includes('--json') || process.env.TRIO_JSON === 'true';
  const sources = new SettingSources();
  let invocation: Invocation | undefined;
  try {
    invocation = await parseCommandLine(argv, sources);
    if (invocation.command === 'relay' || invocation.command === 'doctor')
      json = Boolean(invocation.flags.json);
    return await run(invocation, stop, argv);
  } catch (thrown) {
    const flags = invocation && 'flags' in invocation ? invocation.flags : undefined;
    const error = sources.explain(thrown, flags);
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

/** The command line and config file read again (SIGHUP): the same precedence as at the start. */
async function rereadRelaySettings(argv: string[]) {
  const sources = new SettingSources();
  const invocation = await parseCommandLine(argv, sources);
  if (invocation.command !== 'relay') throw new Error('the command line no longer runs the relay');
  return invocation;
}

async function run(invocation: Invocation, stop: ProcessStop, argv: string[]): Promise<number> {
  switch (invocation.command) {
    case 'help':
      return ExitCode.ok;
    case 'relay':
      return (await import('./relay.js')).runRelayCommand(invocation, stop, () => rereadRelaySettings(argv));
    // Each command's code is loaded on demand: `--help`, the ingest server and discover never load
    // the relay's fleet (undici, execa), and the relay never loads the ingest server's or the demo's.
    case 'doctor':
      return (await import('./doctor.js')).runDoctorCommand(invocation.flags, invocation.cameras);
    case 'ingest-server':
      return (await import('./ingest-server.js')).runIngestServer(invocation.flags, stop.signal);
    case 'demo':
      return (await import('./demo.js')).runDemo(invocation.flags, stop);
    case 'discover':
      return (await import('./discover.js')).runDiscoverCommand(invocation.flags, stop.signal);
  }
}
