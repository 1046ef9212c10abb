import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { newSpoolDir, spoolDirs, startRelay, waitForClosed } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

/** The uid tests hand dirs to, to stand for "another local user" (tests run as root). */
const NOBODY = 65_534;
const ok = ['--source', 'testsrc', '--token', 'tok-1234', '--cloud', 'http://127.0.0.1:9'];
const ADVICE = 'give the relay a directory of its own, e.g. /var/lib/trio-relay';

async function refused(spoolDir: string): Promise<string> {
  const result = await runCli([...ok, '--spool-dir', spoolDir], { timeoutMs: 20_000 });
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('a --spool-dir under a directory another user controls', () => {
  it('is refused when an ancestor is owned by another (non-root) user, and nothing is created there', async () => {
    const shared = join(tempDir('spool-anc-'), 'run');
    mkdirSync(shared, { mode: 0o755 });
    chownSync(shared, NOBODY, NOBODY);
    const spool = join(shared, 'spool');
    expect(await refused(spool)).toBe(
      `trio-relay: --spool-dir ${spool}: its ancestor ${shared} is owned by uid ${NOBODY}, who could swap what is under it: ${ADVICE}`,
    );
    expect(readdirSync(shared)).toEqual([]);
  });

  it('is refused when an ancestor is writable by others without the sticky bit', async () => {
    const shared = join(tempDir('spool-anc-'), 'open');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const spool = join(shared, 'a', 'spool');
    expect(await refused(spool)).toBe(
      `trio-relay: --spool-dir ${spool}: its ancestor ${shared} is writable by other users (mode 0777, owner uid 0) without the sticky bit, so they could swap what is under it: ${ADVICE}`,
    );
    expect(readdirSync(shared)).toEqual([]);
  });

  it('is refused when a symlinked ancestor leads into such a directory', async () => {
    const base = tempDir('spool-anc-');
    const theirs = join(base, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, NOBODY, NOBODY);
    symlinkSync(theirs, join(base, 'link'));
    const spool = join(base, 'link', 'spool');
    expect(await refused(spool)).toBe(
      `trio-relay: --spool-dir ${spool}: its ancestor ${theirs} is owned by uid ${NOBODY}, who could swap what is under it: ${ADVICE}`,
    );
  });
});

describe('spooled files', () => {
  it('are created 0600, segments written by ffmpeg included', async () => {
    const spool = newSpoolDir();
    // Nothing listens there: every segment stays in the spool to be looked at.
    const relay = startRelay('testsrc', `http://127.0.0.1:${await freePort()}`, spool);
    try {
      await waitForClosed(relay, 2);
      const [dir] = spoolDirs(spool);
      const files = readdirSync(join(spool, dir!));
      expect(files.filter((n) => n.endsWith('.ts')).length).toBeGreaterThanOrEqual(2);
      const modes = files.map((n) => [n, (lstatSync(join(spool, dir!, n)).mode & 0o777).toString(8)]);
      expect(modes).toEqual(files.map((n) => [n, '600']));
    } finally {
      relay.kill('SIGTERM');
      await relay.exited;
    }
  });
});
