import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { FfmpegNotFoundError } from '../errors.js';
import { runToCompletion } from './exec.js';

export interface FfmpegBinary {
  readonly path: string;
  /** Where it was found: the flag, FFMPEG_PATH, PATH or the bundled npm package. */
  readonly origin: 'flag' | 'env' | 'path' | 'bundled';
  readonly version: string;
  /**
   * RTSP socket I/O timeout option (µs): `-stimeout` up to ffmpeg 4.x, `-timeout` from 5.0, where
   * 4.x's `-timeout` instead means "listen for a connection" — so it is probed, not guessed.
   */
  readonly rtspTimeoutFlag: '-stimeout' | '-timeout';
}

/** `ffmpeg -version` is instant on an idle box; a starved one (32 relays starting) takes seconds. */
const VERSION_TIMEOUT_MS = 30_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function bundled(): string | undefined {
  try {
    // Optional dependency: absent on platforms it does not ship for.
    const require = createRequire(import.meta.url);
    const pkg = require('@ffmpeg-installer/ffmpeg') as { path?: string };
    return pkg.path && isExecutable(pkg.path) ? pkg.path : undefined;
  } catch {
    return undefined;
  }
}

/** Find ffmpeg: --ffmpeg, then FFMPEG_PATH, then PATH, then @ffmpeg-installer/ffmpeg. */
export async function locateFfmpeg(flag: string | undefined, env = process.env): Promise<FfmpegBinary> {
  let found: { path: string; origin: FfmpegBinary['origin'] } | undefined;
  if (flag) {
    if (!isExecutable(flag)) throw new FfmpegNotFoundError(`--ffmpeg ${flag} is not an executable file`);
    found = { path: flag, origin: 'flag' };
  } else if (env.FFMPEG_PATH) {
    if (!isExecutable(env.FFMPEG_PATH)) {
      throw new FfmpegNotFoundError(`FFMPEG_PATH=${env.FFMPEG_PATH} is not an executable file`);
    }
    found = { path: env.FFMPEG_PATH, origin: 'env' };
  } else {
    const fromPath = onPath('ffmpeg', env.PATH);
    // TRIO_NO_BUNDLED_FFMPEG=1: only a system ffmpeg will do (e.g. to insist on hardware encoders).
    const fromPackage = fromPath || env.TRIO_NO_BUNDLED_FFMPEG ? undefined : bundled();
    if (fromPath) found = { path: fromPath, origin: 'path' };
    else if (fromPackage) found = { path: fromPackage, origin: 'bundled' };
  }
  if (!found) {
    throw new FfmpegNotFoundError(
      'ffmpeg not found: install it (apt-get install ffmpeg), pass --ffmpeg PATH or set FFMPEG_PATH',
    );
  }
  const probe = await runToCompletion(found.path, ['-hide_banner', '-version'], VERSION_TIMEOUT_MS);
  const match = /ffmpeg version (\S+)/.exec(probe.stdout);
  if (probe.incomplete) {
    // Not a wrong binary: a box so busy that `ffmpeg -version` took this long.
    throw new FfmpegNotFoundError(
      `${found.path} -version did not answer within ${VERSION_TIMEOUT_MS / 1000} s (is the machine overloaded?)`,
    );
  }
  if (probe.exitCode !== 0 || !match) {
    throw new FfmpegNotFoundError(
      `${found.path} does not run as ffmpeg: ${probe.stderr.trim().split('\n')[0] ?? ''}`,
    );
  }
  const rtspHelp = await runToCompletion(
    found.path,
    ['-hide_banner', '-h', 'demuxer=rtsp'],
    VERSION_TIMEOUT_MS,
  );
  const rtspTimeoutFlag = /^\s*-stimeout\b/m.test(rtspHelp.stdout) ? '-stimeout' : '-timeout';
  return { ...found, version: match[1]!, rtspTimeoutFlag };
}
