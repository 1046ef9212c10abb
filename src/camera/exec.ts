/** The only module that imports execa: every child process of the relay starts here. */
import { existsSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

export type Child = ResultPromise<{ buffer: false; reject: false; stdin: 'ignore' }>;

const SETPRIV = '/usr/bin/setpriv';
let setprivWorks: boolean | undefined;

/** Whether util-linux setpriv can give children a parent-death signal on this box. */
async function canUsePdeathsig(): Promise<boolean> {
  if (setprivWorks === undefined) {
    setprivWorks =
      process.platform === 'linux' &&
      existsSync(SETPRIV) &&
      (await execa(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', 'true'], { reject: false })).exitCode === 0;
  }
  return setprivWorks;
}

/**
 * Start a long-running child. On Linux it is wrapped in `setpriv --pdeathsig SIGKILL` so it dies
 * with the relay even when the relay is SIGKILLed (a closed stdout pipe is the fallback elsewhere).
 */
export async function spawnChild(file: string, args: readonly string[]): Promise<{ child: Child }> {
  // Wrapped in an object: returning the (thenable) child from an async function would await it.
  const [cmd, argv] = (await canUsePdeathsig())
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', file, ...args]]
    : [file, [...args]];
  const child = execa(cmd, argv, {
    buffer: false,
    reject: false,
    stdin: 'ignore',
    // We stop ffmpeg ourselves (SIGINT, then SIGKILL); execa must not kill it on our exit first.
    cleanup: false,
    // Its own process group: a Ctrl-C or timeout(1)'s group signal reaches the relay only, which
    // then stops ffmpeg in order (its last segment closed, listed and spooled).
    detached: true,
    forceKillAfterDelay: false,
  });
  return { child };
}

/** Run a short command to completion and return its output (never throws on non-zero exit). */
export async function runToCompletion(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  failed: boolean;
  /** It did not finish: timed out, cancelled, or could not be started. */
  incomplete: boolean;
}> {
  const result = await execa(file, [...args], {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    encoding: 'utf8',
    ...(signal ? { cancelSignal: signal } : {}),
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    failed: result.failed,
    incomplete: result.timedOut || result.isCanceled || result.exitCode === undefined,
  };
}
