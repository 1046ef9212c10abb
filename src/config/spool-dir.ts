import { accessSync, constants, lstatSync, type Stats } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { makeDirs, unsafeAncestor } from './safe-dir.js';

/** Who the relay runs as; `uid` is undefined where the platform has none (Windows). */
export interface SpoolUser {
  readonly uid: number | undefined;
  readonly name: string;
}

export function currentUser(): SpoolUser {
  const uid = process.getuid?.();
  return { uid, name: uid === undefined ? userInfo().username : String(uid) };
}

/** `<os temp dir>/trio-relay-<uid>`: a temp dir of this user's own, not the shared /tmp itself. */
export function defaultSpoolRoot(user: SpoolUser = currentUser(), base: string = tmpdir()): string {
  return join(base, `trio-relay-${user.name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}

const ADVICE = 'give the relay a directory of its own, e.g. /var/lib/trio-relay';

/**
 * Why a spool root, as lstat sees it, is unsafe for this user, or undefined when it is fine.
 * Another user who can write there (or owns it) could swap a segment dir for a symlink and have
 * the startup sweep delete, or the uploader send, files of their choosing.
 */
export function spoolDirProblem(
  info: Stats,
  uid: number | undefined,
  advice: string = ADVICE,
): string | undefined {
  if (info.isSymbolicLink()) {
    return `is a symbolic link: pass the directory it points to, or ${advice.replace(/, e\.g\. .*$/, '')}`;
  }
  if (!info.isDirectory()) return 'is not a directory';
  // Without uids (Windows) ownership and mode bits mean nothing here.
  if (uid === undefined) return undefined;
  if (info.uid !== uid) {
    const who = uid === 0 ? 'root uses only a directory owned by root' : `we run as uid ${uid}`;
    return `is owned by uid ${info.uid} (${who}): ${advice}`;
  }
  if (info.mode & 0o022) {
    const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
    // A sticky shared dir such as /tmp is not ours to chmod.
    const fix = info.mode & 0o1000 ? advice : `run chmod go-w on it, or ${advice}`;
    return `is writable by other users (mode ${mode}): ${fix}`;
  }
  return undefined;
}

/**
 * --spool-dir, or the per-user default: created 0700 if missing, then it must be a real directory
 * (not a symlink), owned by us, not group- or world-writable, and writable by us, below ancestors
 * no other user can swap (checked before anything is created). Nothing in it is touched here.
 * Throws ConfigError (exit 2).
 */
export function resolveSpoolDir(
  flag: string | undefined,
  user: SpoolUser = currentUser(),
  base: string = tmpdir(),
): string {
  const path = resolve(flag ?? defaultSpoolRoot(user, base));
  const label =
    flag === undefined
      ? `the default spool dir ${path} (choose another with --spool-dir)`
      : `--spool-dir ${path}`;
  return resolveOwnDir(path, label, user);
}

/**
 * `path` made ready as a directory of our own (see resolveSpoolDir), refusals naming it as
 * `label`, with `advice` on what to do instead: the ingest's --out is held to the same rules.
 */
export function resolveOwnDir(
  path: string,
  label: string,
  user: SpoolUser = currentUser(),
  advice: string = ADVICE,
): string {
  const ancestor = unsafeAncestor(path, user.uid);
  if (ancestor) throw new ConfigError(`${label}: ${ancestor}: ${advice}`);
  let mkdirError: unknown;
  try {
    makeDirs(path);
  } catch (error) {
    mkdirError = error;
  }
  let info: Stats;
  try {
    info = lstatSync(path);
  } catch (error) {
    throw new ConfigError(`${label}: not a writable directory (${reason(mkdirError ?? error)})`);
  }
  const problem = spoolDirProblem(info, user.uid, advice);
  if (problem) throw new ConfigError(`${label} ${problem}`);
  try {
    if (mkdirError) throw mkdirError;
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new ConfigError(`${label}: not a writable directory (${reason(error)})`);
  }
  return path;
}

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
