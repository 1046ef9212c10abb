import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

const ok = ['--source', 'testsrc', '--token', 'tok-1234', '--cloud', 'http://127.0.0.1:9'];
const uid = process.getuid?.();

/**
 * Run with a bad input and a TMPDIR of its own, so the default spool root would land there:
 * exit 2, one line on stderr (returned), nothing on stdout, and nothing created in TMPDIR.
 */
async function rejected(extra: string[], tmp = tempDir('bad-tmp-')): Promise<string> {
  const before = readdirSync(tmp);
  const result = await runCli([...ok, ...extra], { timeoutMs: 20_000, env: { TMPDIR: tmp } });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(readdirSync(tmp)).toEqual(before);
  return lines[0]!;
}

describe('bad input: one clear line, exit 2, nothing started', () => {
  it.each([
    [['--cloud', 'ftp://x'], /--cloud ftp:\/\/x/],
    // It does not parse: its whole userinfo is left out.
    [['--source', 'rtsp://admin:hunter2@'], /--source rtsp:\/\/\*\*\*@ is not a valid URL/],
    [['--resolution', 'big'], /--resolution big/],
    [['--segment-duration', '-3'], /--segment-duration -3/],
    [['--upload-timeout', '0'], /--upload-timeout 0/],
    [['--fps', 'many'], /--fps many/],
    [['--ffmpeg', '/nonexistent/ffmpeg'], /--ffmpeg \/nonexistent\/ffmpeg is not an executable/],
    [['--spool-dir', '/proc/version/x'], /--spool-dir .* not a writable directory/],
    // Node's recursive mkdir spins forever here: the relay must answer at once.
    [
      ['--spool-dir', '/proc/no-such/dir'],
      /--spool-dir \/proc\/no-such\/dir: not a writable directory \(ENOENT\)/,
    ],
    [['--no-such-flag'], /Unknown argument/],
  ])('%j', async (extra, message) => {
    const result = await runCli([...ok, ...extra], { timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('an unreadable token file and a missing token', async () => {
    const noFile = await runCli(['--source', 'testsrc', '--token-file', '/nonexistent/token'], {
      timeoutMs: 20_000,
    });
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/--token-file \/nonexistent\/token: cannot read it/);
    const none = await runCli(['--source', 'testsrc'], { timeoutMs: 20_000, env: { TRIO_TOKEN: undefined } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no API token/);
  });

  it('no ffmpeg anywhere', async () => {
    const result = await runCli(ok, {
      timeoutMs: 20_000,
      env: { PATH: '/nonexistent', FFMPEG_PATH: undefined, TRIO_NO_BUNDLED_FFMPEG: '1' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ffmpeg not found/);
  });

  it('bad input never deletes spooled segments', async () => {
    const root = tempDir('bad-input-');
    const orphan = join(root, 'trio-relay-segments-1-abc');
    mkdirSync(orphan);
    writeFileSync(join(root, 'trio-relay-segments-1-abc', 'seg-000000001.ts'), 'x');
    const result = await runCli([...ok, '--spool-dir', root, '--fps', '0'], { timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(readdirSync(join(root, 'trio-relay-segments-1-abc'))).toEqual(['seg-000000001.ts']);
  });

  it('ingest-server rejects a bad port and a bad fault spec', async () => {
    const port = await runCli(['ingest-server', '--port', '70000'], { timeoutMs: 20_000 });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--port 70000/);
    const fault = await runCli(['ingest-server', '--port', '0', '--fault', 'explode'], { timeoutMs: 20_000 });
    expect(fault.code).toBe(2);
    expect(fault.stderr).toMatch(/--fault explode/);
  });
});

describe('bad bounds (issue 10): one line naming the flag, the value and the range; nothing started', () => {
  it.each([
    [['--upload-timeout', '1000h'], '--upload-timeout 1000h: expected a duration from 1s to 10m'],
    [['--upload-timeout', '2000h'], '--upload-timeout 2000h: expected a duration from 1s to 10m'],
    [['--upload-timeout', '500ms'], '--upload-timeout 500ms: expected a duration from 1s to 10m'],
    [['--upload-timeout', '1e9'], '--upload-timeout 1e9: expected a duration from 1s to 10m'],
    [['--upload-timeout', 'Infinity'], '--upload-timeout Infinity: expected a duration'],
    [['--upload-timeout', ''], '--upload-timeout "": expected a duration'],
    [['--max-spool-mb', '0.0001'], '--max-spool-mb 0.0001: expected MB from 1 to 1048576'],
    [['--max-spool-mb', '2000000'], '--max-spool-mb 2000000: expected MB from 1 to 1048576'],
    [
      ['--segment-duration', '0.001'],
      '--segment-duration 0.001: expected seconds from 1 (one frame at --fps 1) to 600',
    ],
    [['--segment-duration', '601', '--fps', '2'], '--segment-duration 601: expected seconds from 0.5 to 600'],
    [['--fps', '0.05'], '--fps 0.05: expected frames per second from 0.1 to 120'],
    [['--fps', '121'], '--fps 121: expected frames per second from 0.1 to 120'],
    [['--upload-concurrency', '17'], '--upload-concurrency 17: expected a whole number from 1 to 16'],
    [['--retry-base', '5ms'], '--retry-base 5ms: expected a duration from 10ms to 1m'],
    [
      ['--retry-base', '5s', '--retry-max', '2s'],
      '--retry-max 2s: expected a duration from 5s (--retry-base) to 1h',
    ],
    [['--retry-max', '2h'], '--retry-max 2h: expected a duration from 1s (--retry-base) to 1h'],
    [['--retry-after-max', '2h'], '--retry-after-max 2h: expected a duration from 1s to 1h'],
    [['--drain-timeout', '11m'], '--drain-timeout 11m: expected a duration from 0s to 10m'],
    [['--drain-timeout', '-1'], '--drain-timeout -1: expected a duration from 0s to 10m'],
    [['--stale-after', '30d'], '--stale-after 30d: expected a duration from 1s to 24d'],
    [['--stale-after', '0'], '--stale-after 0: expected a duration from 1s to 24d'],
    [['--io-timeout', '20m'], '--io-timeout 20m: expected a duration from 1s to 10m'],
    [
      ['--stall-timeout', '15s'],
      '--stall-timeout 15s: expected a duration from 20s (2 × --segment-duration) to 1h',
    ],
    [
      ['--stall-timeout', '2h'],
      '--stall-timeout 2h: expected a duration from 20s (2 × --segment-duration) to 1h',
    ],
  ])('%j', async (extra, message) => {
    expect(await rejected(extra)).toMatch(new RegExp(`^trio-relay: ${message.replace(/[.()]/g, '\\$&')}`));
  });

  it('with --json: one NDJSON error line, no raw TimeoutOverflowWarning', async () => {
    const line = await rejected(['--json', '--upload-timeout', '1000h']);
    expect(JSON.parse(line)).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/^--upload-timeout 1000h: expected a duration from 1s to 10m/),
    });
  });

  it('leaves a stale orphan in the spool dir alone (the sweep never ran)', async () => {
    const root = tempDir('bad-bounds-');
    const orphan = join(root, 'trio-relay-segments-1-abc');
    mkdirSync(orphan);
    writeFileSync(join(orphan, 'seg-000000001.ts'), 'x');
    const past = new Date(Date.now() - 7_200_000);
    utimesSync(orphan, past, past);
    // --stale-after 1s would have the sweep delete it: only the bad --upload-timeout stops that.
    await rejected(['--spool-dir', root, '--stale-after', '1s', '--upload-timeout', '1000h']);
    expect(readdirSync(orphan)).toEqual(['seg-000000001.ts']);
  });
});

describe('an unsafe spool dir: exit 2 with why and what to do, segments kept', () => {
  it.each([
    [
      0o777,
      '0777',
      'run chmod go-w on it, or give the relay a directory of its own, e.g. /var/lib/trio-relay',
    ],
    [
      0o770,
      '0770',
      'run chmod go-w on it, or give the relay a directory of its own, e.g. /var/lib/trio-relay',
    ],
    // A shared sticky dir like /tmp: chmod would be the wrong advice.
    [0o1777, '1777', 'give the relay a directory of its own, e.g. /var/lib/trio-relay'],
  ])('--spool-dir with mode %o', async (bits, shown, advice) => {
    const root = tempDir('bad-spool-');
    mkdirSync(join(root, 'trio-relay-segments-1-abc'));
    writeFileSync(join(root, 'trio-relay-segments-1-abc', 'seg-000000001.ts'), 'x');
    chmodSync(root, bits);
    expect(await rejected(['--spool-dir', root, '--stale-after', '1s'])).toBe(
      `trio-relay: --spool-dir ${root} is writable by other users (mode ${shown}): ${advice}`,
    );
    expect(lstatSync(root).mode & 0o7777).toBe(bits);
    expect(readdirSync(join(root, 'trio-relay-segments-1-abc'))).toEqual(['seg-000000001.ts']);
  });

  it('--spool-dir as a symlink to a good dir', async () => {
    const good = tempDir('bad-spool-');
    const link = join(tempDir('bad-spool-'), 'link');
    symlinkSync(good, link);
    expect(await rejected(['--spool-dir', link])).toBe(
      `trio-relay: --spool-dir ${link} is a symbolic link: pass the directory it points to, or give the relay a directory of its own`,
    );
    expect(readdirSync(good)).toEqual([]);
  });

  it('--spool-dir that is a file', async () => {
    const file = join(tempDir('bad-spool-'), 'file');
    writeFileSync(file, 'x');
    expect(await rejected(['--spool-dir', file])).toBe(`trio-relay: --spool-dir ${file} is not a directory`);
  });

  // Root hands a fresh dir to uid 4242; anyone else is refused a dir root owns ("/"), since this
  // process cannot chown. Either way the refusal is checked.
  it(`--spool-dir owned by another uid (${uid === 0 ? 'chowned to 4242' : '"/", owned by root'})`, async () => {
    let dir = '/';
    if (uid === 0) {
      dir = tempDir('bad-spool-');
      chownSync(dir, 4242, 4242);
    }
    const owner = statSync(dir).uid;
    expect(owner).not.toBe(uid);
    const who = uid === 0 ? 'root uses only a directory owned by root' : `we run as uid ${uid}`;
    expect(await rejected(['--spool-dir', dir])).toBe(
      `trio-relay: --spool-dir ${dir} is owned by uid ${owner} (${who}): give the relay a directory of its own, e.g. /var/lib/trio-relay`,
    );
  });

  it('the default root planted as a symlink, or left open to others', async () => {
    const tmp = tempDir('bad-tmp-');
    const target = tempDir('bad-spool-');
    const root = join(tmp, `trio-relay-${uid}`);
    symlinkSync(target, root);
    expect(await rejected([], tmp)).toBe(
      `trio-relay: the default spool dir ${root} (choose another with --spool-dir) is a symbolic link: pass the directory it points to, or give the relay a directory of its own`,
    );
    expect(readdirSync(target)).toEqual([]);

    const open = tempDir('bad-tmp-');
    mkdirSync(join(open, `trio-relay-${uid}`));
    chmodSync(join(open, `trio-relay-${uid}`), 0o777);
    expect(await rejected([], open)).toMatch(
      /^trio-relay: the default spool dir .* \(choose another with --spool-dir\) is writable by other users \(mode 0777\): /,
    );
  });
});
