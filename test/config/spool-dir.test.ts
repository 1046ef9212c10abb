import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unsafeAncestor } from '../../src/config/safe-dir.js';
import {
  currentUser,
  defaultSpoolRoot,
  resolveSpoolDir,
  type SpoolUser,
  spoolDirProblem,
} from '../../src/config/spool-dir.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const me = currentUser();
const isRoot = me.uid === 0;

function fresh(): string {
  return tempDir('spool-dir-');
}

function refusal(flag: string | undefined, user: SpoolUser = me, base?: string): string {
  try {
    resolveSpoolDir(flag, user, base);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const mode = (path: string) => lstatSync(path).mode & 0o7777;

describe('the default spool root', () => {
  it('is <tmpdir>/trio-relay-<uid>, created 0700, and reused', () => {
    const base = fresh();
    const root = resolveSpoolDir(undefined, me, base);
    expect(root).toBe(join(base, `trio-relay-${process.getuid?.()}`));
    expect(mode(root)).toBe(0o700);
    writeFileSync(join(root, 'kept'), 'x');
    expect(resolveSpoolDir(undefined, me, base)).toBe(root);
    expect(readdirSync(root)).toEqual(['kept']);
  });

  it('uses the user name where there is no uid', () => {
    expect(defaultSpoolRoot({ uid: undefined, name: 'CORP\\Jo Doe' }, '/t')).toBe(
      '/t/trio-relay-CORP_Jo_Doe',
    );
    expect(currentUser().name).toBe(String(process.getuid?.()));
  });

  it('refuses one another user planted: a symlink, or a dir left open to others', () => {
    const base = fresh();
    const target = fresh();
    symlinkSync(target, join(base, `trio-relay-${me.name}`));
    expect(refusal(undefined, me, base)).toBe(
      `the default spool dir ${join(base, `trio-relay-${me.name}`)} (choose another with --spool-dir) is a symbolic link: pass the directory it points to, or give the relay a directory of its own`,
    );
    expect(readdirSync(target)).toEqual([]);

    const open = fresh();
    mkdirSync(join(open, `trio-relay-${me.name}`));
    chmodSync(join(open, `trio-relay-${me.name}`), 0o777);
    expect(refusal(undefined, me, open)).toMatch(
      /^the default spool dir .* \(choose another with --spool-dir\) is writable by other users \(mode 0777\)/,
    );
  });
});

describe('--spool-dir', () => {
  it('is created 0700 with its parents when missing', () => {
    const path = join(fresh(), 'a', 'b');
    expect(resolveSpoolDir(path)).toBe(path);
    expect(mode(path)).toBe(0o700);
    expect(statSync(join(path, '..')).isDirectory()).toBe(true);
  });

  it('accepts a dir of our own that others may read but not write', () => {
    const dir = fresh();
    chmodSync(dir, 0o755);
    expect(resolveSpoolDir(dir)).toBe(dir);
  });

  it.each([
    [0o777, '0777'],
    [0o770, '0770'],
    [0o702, '0702'],
  ])('refuses mode %o (writable by others) and leaves it and its segments alone', (bits, shown) => {
    const dir = fresh();
    mkdirSync(join(dir, 'trio-relay-segments-1-abc'));
    writeFileSync(join(dir, 'trio-relay-segments-1-abc', 'seg-000000001.ts'), 'x');
    chmodSync(dir, bits);
    expect(refusal(dir)).toBe(
      `--spool-dir ${dir} is writable by other users (mode ${shown}): run chmod go-w on it, or give the relay a directory of its own, e.g. /var/lib/trio-relay`,
    );
    expect(mode(dir)).toBe(bits);
    expect(readdirSync(join(dir, 'trio-relay-segments-1-abc'))).toEqual(['seg-000000001.ts']);
  });

  it('refuses a shared sticky dir like /tmp without suggesting to chmod it', () => {
    const dir = fresh();
    chmodSync(dir, 0o1777);
    expect(refusal(dir)).toBe(
      `--spool-dir ${dir} is writable by other users (mode 1777): give the relay a directory of its own, e.g. /var/lib/trio-relay`,
    );
  });

  it('refuses a symlink, even to a good dir, and a dangling one', () => {
    const good = fresh();
    const links = fresh();
    symlinkSync(good, join(links, 'to-good'));
    symlinkSync(join(links, 'nowhere'), join(links, 'dangling'));
    expect(refusal(join(links, 'to-good'))).toMatch(/^--spool-dir .*to-good is a symbolic link: /);
    // A trailing slash would make lstat follow the link; the path is normalized first.
    expect(refusal(`${join(links, 'to-good')}/`)).toMatch(/is a symbolic link/);
    expect(refusal(join(links, 'dangling'))).toMatch(/^--spool-dir .*dangling is a symbolic link: /);
    expect(readdirSync(links).sort()).toEqual(['dangling', 'to-good']);
  });

  it('refuses a file, and a path that cannot be a directory', () => {
    const file = join(fresh(), 'file');
    writeFileSync(file, 'x');
    expect(refusal(file)).toBe(`--spool-dir ${file} is not a directory`);
    expect(refusal('/proc/version/spool')).toBe(
      '--spool-dir /proc/version/spool: not a writable directory (ENOTDIR)',
    );
  });

  // As root the dir really is handed to another uid; otherwise this process cannot chown, so the
  // same real dir is judged as if we ran as someone else. Either way the refusal is checked.
  it(`refuses a dir owned by another uid (${isRoot ? 'chown to 4242' : 'injected uid'})`, () => {
    const dir = fresh();
    let user = me;
    if (isRoot) chownSync(dir, 4242, 4242);
    else user = { uid: me.uid! + 1, name: String(me.uid! + 1) };
    const owner = lstatSync(dir).uid;
    expect(refusal(dir, user)).toBe(
      `--spool-dir ${dir} is owned by uid ${owner} (${isRoot ? 'root uses only a directory owned by root' : `we run as uid ${user.uid}`}): give the relay a directory of its own, e.g. /var/lib/trio-relay`,
    );
  });
});

describe('spoolDirProblem', () => {
  it('judges ownership against the uid it is given', () => {
    const info = lstatSync(fresh());
    expect(spoolDirProblem(info, info.uid)).toBeUndefined();
    expect(spoolDirProblem(info, info.uid + 1)).toBe(
      `is owned by uid ${info.uid} (we run as uid ${info.uid + 1}): give the relay a directory of its own, e.g. /var/lib/trio-relay`,
    );
  });

  it('root uses only a dir owned by root', () => {
    const info = lstatSync(fresh());
    // The same dir as if another user owned it: Stats fields are own properties, methods are not.
    const foreign = { ...info, uid: 1000, isSymbolicLink: () => false, isDirectory: () => true };
    expect(spoolDirProblem({ ...foreign, uid: 0 } as typeof info, 0)).toBeUndefined();
    expect(spoolDirProblem(foreign as typeof info, 0)).toBe(
      'is owned by uid 1000 (root uses only a directory owned by root): give the relay a directory of its own, e.g. /var/lib/trio-relay',
    );
  });

  it('without uids (Windows) checks only that it is a real directory', () => {
    const dir = fresh();
    chmodSync(dir, 0o777);
    expect(spoolDirProblem(lstatSync(dir), undefined)).toBeUndefined();
    const links = fresh();
    symlinkSync(dir, join(links, 'l'));
    expect(spoolDirProblem(lstatSync(join(links, 'l')), undefined)).toMatch(/^is a symbolic link/);
  });
});

describe('the spool dir ancestors', () => {
  it('accepts a spool dir below a shared sticky dir such as /tmp, and one below our own dirs', () => {
    const sticky = join(fresh(), 'shared');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    expect(resolveSpoolDir(join(sticky, 'mine', 'spool'))).toBe(join(sticky, 'mine', 'spool'));
    expect(mode(join(sticky, 'mine'))).toBe(0o700);
  });

  it("accepts an ancestor writable by our own group (a Kubernetes volume's fsGroup)", () => {
    const ours = join(fresh(), 'volume');
    mkdirSync(ours);
    chmodSync(ours, 0o2775);
    expect(resolveSpoolDir(join(ours, 'spool'))).toBe(join(ours, 'spool'));
  });

  it('refuses an ancestor writable by a group not our own, without the sticky bit', () => {
    const group = join(fresh(), 'group');
    mkdirSync(group);
    chmodSync(group, 0o775);
    const spool = join(group, 'a', 'b');
    // The dir's group is ours; judged as if it were another's (this process cannot chgrp freely).
    const otherGid = lstatSync(group).gid + 1;
    expect(unsafeAncestor(spool, me.uid, otherGid)).toBe(
      `its ancestor ${group} is writable by other users (mode 0775, owner uid ${me.uid}) without the sticky bit, so they could swap what is under it`,
    );
    expect(readdirSync(group)).toEqual([]);
    chmodSync(group, 0o777); // writable by others: refused whatever the group
    expect(refusal(spool)).toBe(
      `--spool-dir ${spool}: its ancestor ${group} is writable by other users (mode 0777, owner uid ${me.uid}) without the sticky bit, so they could swap what is under it: give the relay a directory of its own, e.g. /var/lib/trio-relay`,
    );
    expect(readdirSync(group)).toEqual([]);
  });
});
