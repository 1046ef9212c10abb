import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';

afterAll(() => killAllClis());

const ok = ['--source', 'testsrc', '--token', 'tok-1234', '--cloud', 'http://127.0.0.1:9'];

/**
 * Run with a bad input and a TMPDIR of its own, so the default spool root would land there:
 * exit 2, one line on stderr (returned), nothing on stdout, and nothing created in TMPDIR.
 */
async function rejected(extra: string[], tmp = mkdtempSync(join(tmpdir(), 'bad-tmp-'))): Promise<string> {
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
    [['--source', 'rtsp://admin:hunter2@'], /--source rtsp:\/\/admin:\*\*\*@/],
    [['--resolution', 'big'], /--resolution big/],
    [['--segment-duration', '-3'], /--segment-duration -3/],
    [['--upload-timeout', '0'], /--upload-timeout 0/],
    [['--fps', 'many'], /--fps many/],
    [['--ffmpeg', '/nonexistent/ffmpeg'], /--ffmpeg \/nonexistent\/ffmpeg is not an executable/],
    [['--spool-dir', '/proc/version/x'], /--spool-dir .* not a writable directory/],
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
    const root = mkdtempSync(join(tmpdir(), 'bad-input-'));
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
    const root = mkdtempSync(join(tmpdir(), 'bad-bounds-'));
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
