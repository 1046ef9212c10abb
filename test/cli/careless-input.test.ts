import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

// Issue 22, "bad input": what a careless operator types. Each is refused at start, exit 2, one line.
const base = ['--source', 'testsrc', '--cloud', 'http://127.0.0.1:9'];
const ok = [...base, '--token', 'tok-1234'];

function tempFile(name: string, text: string): string {
  const path = join(tempDir('careless-'), name);
  writeFileSync(path, text);
  return path;
}

/**
 * Exit 2, one line on stderr (returned), nothing on stdout, nothing created in TMPDIR (where the
 * default spool root would land), and none of `secrets` printed.
 */
async function refused(
  args: string[],
  options: { env?: Record<string, string | undefined>; secrets?: string[] } = {},
): Promise<string> {
  const tmp = tempDir('careless-tmp-');
  const result = await runCli(args, { timeoutMs: 20_000, env: { TMPDIR: tmp, ...options.env } });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(readdirSync(tmp)).toEqual([]);
  for (const secret of options.secrets ?? []) expect(result.stderr).not.toContain(secret);
  return lines[0]!;
}

describe('an API key no HTTP header can carry: exit 2 at start naming where it came from, never shown', () => {
  it.each([
    ['--token', [...base, '--token', 'clé-5678'], {}, /^trio-relay: --token: /],
    ['a key beyond Latin-1', [...base, '--token', 'k✓y-5678'], {}, /^trio-relay: --token: /],
    [
      'TRIO_TOKEN with a control character',
      base,
      { TRIO_TOKEN: 'abc\u0007-5678' },
      /^trio-relay: --token: .*\(from TRIO_TOKEN\)$/,
    ],
    ['TRIO_TOKEN with a newline', base, { TRIO_TOKEN: 'abc\n-5678' }, /\(from TRIO_TOKEN\)$/],
  ])('%s', async (_what, args, env, message) => {
    const line = await refused(args, { env, secrets: ['5678'] });
    expect(line).toMatch(message);
    expect(line).toMatch(/printable ASCII/);
  });

  it('--token-file with a non-ASCII character, or a control character inside', async () => {
    for (const text of ['clé-5678\n', 'ab\u0000-5678\n']) {
      const path = tempFile('token', text);
      const line = await refused([...base, '--token-file', path], { secrets: ['5678'] });
      expect(line).toMatch(new RegExp(`^trio-relay: --token-file ${path}: .*printable ASCII`));
    }
  });

  it('a token key of the config file', async () => {
    const path = tempFile('relay.yaml', 'token: clé-5678\n');
    const line = await refused([...base, '--config', path], { secrets: ['5678'] });
    expect(line).toMatch(/^trio-relay: --token: .*\(from "token" in config file .*relay\.yaml\)$/);
  });

  it('a token key of a config file with a cameras: list (no camera is blamed)', async () => {
    const path = tempFile(
      'cameras.yaml',
      'token: clé-5678\ncloud: http://127.0.0.1:9\ncameras:\n  - id: a\n    source: testsrc\n',
    );
    const line = await refused(['--config', path], { secrets: ['5678'] });
    expect(line).toMatch(/^trio-relay: --token: .*\(from "token" in config file .*cameras\.yaml\)$/);
  });

  it('doctor says so too', async () => {
    expect(await refused(['doctor', ...base, '--token', 'clé-5678'], { secrets: ['5678'] })).toMatch(
      /^trio-relay: --token: /,
    );
  });

  it('ingest-server --token, TRIO_TOKEN and --token-file', async () => {
    const server = ['ingest-server', '--port', '0'];
    expect(await refused([...server, '--token', 'clé-5678'], { secrets: ['5678'] })).toMatch(
      /^trio-relay: --token: .*printable ASCII/,
    );
    expect(await refused(server, { env: { TRIO_TOKEN: 'k✓-5678' }, secrets: ['5678'] })).toMatch(
      /^trio-relay: --token: .*\(from TRIO_TOKEN\)$/,
    );
    const path = tempFile('token', 'k\u0001-5678');
    expect(await refused([...server, '--token-file', path], { secrets: ['5678'] })).toMatch(
      /^trio-relay: --token-file .*: .*printable ASCII/,
    );
  });
});

describe('YAML the reader refuses: exit 2, one line naming the file and where, no file text', () => {
  const bomb = [
    'a: &a ["s3cret", "s3cret", "s3cret", "s3cret", "s3cret", "s3cret", "s3cret", "s3cret", "s3cret"]',
    ...['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map(
      (key, i) =>
        `${key}: &${key} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
    ),
  ].join('\n');

  it.each([
    ['an alias with no anchor', 'source: testsrc\ntoken: *s3cret\n', /at line 2, column 8: /],
    ['an alias bomb', `${bomb}\n`, /at line 2, column \d+: .*alias/],
    ['an unknown tag', 'token: !s3cret x\n', /at line 1, column 8: /],
    ['a bad escape', 'token: "s3\\qcret"\n', /at line 1, column \d+: /],
    ['a block header with extra text', 'token: |s3cret\n  x\n', /at line 1, column \d+: /],
  ])('%s', async (_what, text, message) => {
    const path = tempFile('relay.yaml', text);
    const line = await refused([...base, '--config', path], { secrets: ['s3cret', 'qc', 'cret'] });
    expect(line).toMatch(new RegExp(`^trio-relay: config file ${path}: not valid YAML or JSON `));
    expect(line).toMatch(message);
  });
});

describe('an empty value where one makes no sense: exit 2 naming the flag or the variable', () => {
  it.each([
    ['--spool-dir', ''],
    ['--ffmpeg', ''],
    ['--config', ''],
    ['--camera-id', ''],
    ['--ca-file', ''],
    ['--name', ''],
    ['--spool-dir', '  '],
  ])('%s %j', async (flag, value) => {
    expect(await refused([...ok, flag, value])).toMatch(new RegExp(`^trio-relay: ${flag} is empty: `));
  });

  it.each([
    ['--source', base.slice(2)],
    ['--cloud', ['--source', 'testsrc']],
    ['--token', base],
  ])('%s ""', async (flag, args) => {
    expect(await refused([...args, flag, '', ...(flag === '--token' ? [] : ['--token', 't'])])).toMatch(
      new RegExp(`^trio-relay: ${flag} is empty: `),
    );
  });

  it('--token-file "" alone', async () => {
    expect(await refused([...base, '--token-file', ''])).toMatch(/^trio-relay: --token-file is empty: /);
  });

  it('a flag given last, with no value at all', async () => {
    expect(await refused([...ok, '--spool-dir'])).toMatch(/^trio-relay: --spool-dir is empty: /);
  });

  it.each([
    ['TRIO_SPOOL_DIR', ''],
    ['TRIO_FFMPEG', ''],
    ['TRIO_CONFIG', ''],
    ['TRIO_SOURCE', ''],
    ['TRIO_CA_FILE', ' '],
  ])('%s=%j', async (name, value) => {
    const args = name === 'TRIO_SOURCE' ? ['--token', 't', '--cloud', 'http://127.0.0.1:9'] : ok;
    expect(await refused(args, { env: { [name]: value } })).toMatch(
      new RegExp(`^trio-relay: ${name} is set but empty: `),
    );
  });

  it('doctor and ingest-server too', async () => {
    expect(await refused(['doctor', ...ok, '--spool-dir', ''])).toMatch(/^trio-relay: --spool-dir is empty/);
    expect(await refused(['ingest-server', '--port', '0', '--out', ''])).toMatch(
      /^trio-relay: --out is empty/,
    );
    expect(await refused(['ingest-server', '--port', '0'], { env: { TRIO_TOKEN: '' } })).toMatch(
      /^trio-relay: TRIO_TOKEN is set but empty/,
    );
  });

  it('an empty string in the config file names the key', async () => {
    const path = tempFile('relay.yaml', 'spool-dir: ""\n');
    expect(await refused([...ok, '--config', path])).toBe(
      `trio-relay: config file ${path}: key "spool-dir" is empty`,
    );
  });
});

describe('small things', () => {
  it.each([
    [['--upload-timeout', '-5s'], '--upload-timeout -5s: expected a duration from 1s to 10m'],
    [['--upload-timeout=-5s'], '--upload-timeout -5s: expected a duration from 1s to 10m'],
    [['--retry-base', '-1m'], '--retry-base -1m: expected a duration from 10ms to 1m'],
    [['--drain-timeout', '-.5'], '--drain-timeout -.5: expected a duration from 0s to 10m'],
  ])('a negative duration %j', async (extra, message) => {
    expect(await refused([...extra, ...ok])).toContain(`trio-relay: ${message}`);
  });

  it('--name longer than 200 characters', async () => {
    const line = await refused([...ok, '--name', 'n'.repeat(201)]);
    expect(line).toBe('trio-relay: --name: expected at most 200 characters, got 201');
    expect(await refused(['doctor', ...ok, '--name', 'x'.repeat(60_000)])).toMatch(/got 60000$/);
  });
});
