/** The only module that imports execa: every child process of the relay starts here. */
import { existsSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

export type Child = ResultPromise<{ buffer: false; reject: false; stdin: 'ignore' }>;

const SETPRIV = '/usr/bin/setpriv';
let setprivWorks: boolean | undefined;

/**
 * What a child (ffmpeg, ffprobe, setpriv) may see of the relay's environment: what a process
 * needs to find its libraries and files, speak the locale and time zone, reach a proxy and
 * verify TLS, and drive a GPU encoder. Nothing else, above all no TRIO_* variable: TRIO_TOKEN,
 * TRIO_SOURCE (a URL with its password) and TRIO_CAMERA_PASSWORD would otherwise sit in
 * /proc/<ffmpeg>/environ for as long as it runs.
 */
const CHILD_ENV_NAMES = new Set([
  'PATH',
  'HOME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'LD_LIBRARY_PATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // ffmpeg's http(s) input reads these.
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  // Hardware encoders (--encoder h264_vaapi, h264_nvenc, h264_qsv).
  'CUDA_VISIBLE_DEVICES',
  'NVIDIA_VISIBLE_DEVICES',
  'NVIDIA_DRIVER_CAPABILITIES',
]);
const CHILD_ENV_PREFIXES = ['LC_', 'LIBVA_', 'AV_LOG_FORCE_'];

/** The part of `env` a child gets (see CHILD_ENV_NAMES). */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || name.startsWith('TRIO_')) continue;
    if (CHILD_ENV_NAMES.has(name) || CHILD_ENV_PREFIXES.some((prefix) => name.startsWith(prefix)))
      kept[name] = value;
  }
  return kept;
}

/** execa's environment options for every child: only childEnvironment(), not the rest of ours. */
const childEnv = () => ({ env: childEnvironment(), extendEnv: false });

/** Whether util-linux setpriv can give children a parent-death signal on this box. */
async function canUsePdeathsig(): Promise<boolean> {
  if (setprivWorks === undefined) {
    setprivWorks =
      process.platform === 'linux' &&
      existsSync(SETPRIV) &&
      (await execa(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', 'true'], { reject: false, ...childEnv() }))
        .exitCode === 0;
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
    ...childEnv(),
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
    ...childEnv(),
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
