import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';

afterAll(() => killAllClis());

const ok = ['--source', 'testsrc', '--token', 'tok-1234', '--cloud', 'http://127.0.0.1:9'];

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
