import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why someone other than us or root could swap what lies under one of `path`'s ancestors (not
 * `path` itself, which its caller judges), or undefined when none can. Whoever may rename or
 * replace an entry in an ancestor may swap our directory for theirs after we checked it, and have
 * root write segments, ledgers or `camera.json` into a place of their choosing. Unsafe: an
 * ancestor owned by another non-root user, or writable by others, or by a group not our own,
 * without the sticky bit (a sticky dir such as /tmp lets nobody rename another user's entries).
 * Our own group may write (a Kubernetes volume's root is group-writable by the pod's `fsGroup`,
 * the relay's group). A symlinked ancestor is judged by where it leads as well. Ancestors that do
 * not exist yet are ours to create (0700). `uid` undefined (Windows): nothing is checked.
 */
export function unsafeAncestor(
  path: string,
  uid: number | undefined,
  gid: number | undefined = process.getgid?.(),
): string | undefined {
  if (uid === undefined) return undefined;
  return walk(dirname(resolve(path)), { uid, gid }, new Set());
}

interface Us {
  readonly uid: number;
  readonly gid: number | undefined;
}

/** Judge `dir` and each of its ancestors, root first; follow symlinks to judge their targets too. */
function walk(dir: string, us: Us, seen: Set<string>): string | undefined {
  const parent = dirname(dir);
  if (parent !== dir) {
    const above = walk(parent, us, seen);
    if (above) return above;
  }
  if (seen.has(dir)) return undefined;
  seen.add(dir);
  let info: Stats;
  try {
    info = lstatSync(dir);
  } catch {
    return undefined; // missing: created by us, 0700, below an ancestor already judged
  }
  if (info.isSymbolicLink()) {
    // The link's own parent was judged above; where it leads must pass as an ancestor too.
    let target: string;
    try {
      target = realpathSync(dir);
    } catch {
      return undefined; // dangling: whatever uses the path fails on its own
    }
    return walk(target, us, seen);
  }
  return ancestorProblem(dir, info, us);
}

function ancestorProblem(dir: string, info: Stats, us: Us): string | undefined {
  if (info.uid !== us.uid && info.uid !== 0) {
    return `its ancestor ${dir} is owned by uid ${info.uid}, who could swap what is under it`;
  }
  const writable = info.mode & (info.gid === us.gid ? 0o002 : 0o022);
  if (writable && !(info.mode & 0o1000)) {
    const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
    return `its ancestor ${dir} is writable by other users (mode ${mode}, owner uid ${info.uid}) without the sticky bit, so they could swap what is under it`;
  }
  return undefined;
}

/**
 * `mkdir -p`, one level at a time, each new level 0700: Node's own recursive mkdir spins forever
 * on a path under /proc (ENOENT that never resolves), which would hang start-up past any signal.
 * An existing level (made first by another process) is fine; callers judge what exists with lstat.
 */
export function makeDirs(path: string): void {
  const parent = dirname(path);
  if (parent !== path && !exists(parent)) makeDirs(parent);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
