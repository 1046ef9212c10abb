import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Invocation, parseCommandLine } from '../../src/cli/commands.js';
import { RELAY_SETTINGS } from '../../src/cli/relay-settings.js';
import { envName, joinDashValues, SettingSources, valueFlags } from '../../src/cli/settings.js';
import { type RelayConfig, resolveRelayConfig } from '../../src/config/relay-config.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Parse as the CLI does (flags, TRIO_* env, --config FILE), then validate: what the relay would run with. */
/** Exactly these TRIO_* variables: none from the machine running the tests, none from the last call. */
function setEnv(env: Record<string, string>): void {
  for (const name of Object.keys(process.env)) if (name.startsWith('TRIO_')) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

async function parse(argv: string[], env: Record<string, string> = {}): Promise<Invocation> {
  setEnv(env);
  const sources = new SettingSources();
  try {
    return await parseCommandLine(argv, sources);
  } catch (error) {
    throw sources.explain(error, undefined);
  }
}

async function relayConfig(argv: string[], env: Record<string, string> = {}): Promise<RelayConfig> {
  const sources = new SettingSources();
  setEnv(env);
  const invocation = await parseCommandLine(['--source', 'testsrc', '--token', 'k', ...argv], sources);
  if (invocation.command !== 'relay') throw new Error(`parsed as ${invocation.command}`);
  try {
    return resolveRelayConfig(invocation.flags, {});
  } catch (error) {
    throw sources.explain(error, invocation.flags);
  }
}

function configFile(text: string, name = 'relay.yaml'): string {
  const path = join(tempDir('settings-'), name);
  writeFileSync(path, text);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message;
}

beforeEach(() => setEnv({}));
afterEach(() => {
  vi.unstubAllEnvs();
});

/** Settings of each kind, with a value for each source and what the config then holds. */
const CASES = [
  { flag: 'fps', file: '2', env: '3', cli: '4', read: (c: RelayConfig) => c.camera.fps, want: [1, 2, 3, 4] },
  {
    flag: 'upload-timeout',
    file: '45',
    env: '5m',
    cli: '1500ms',
    read: (c: RelayConfig) => c.camera.uploadTimeoutMs,
    want: [30_000, 45_000, 300_000, 1500],
  },
  {
    flag: 'retry-base',
    file: '500ms',
    env: '2s',
    cli: '0.25',
    read: (c: RelayConfig) => c.process.retryBaseMs,
    want: [1000, 500, 2000, 250],
  },
  {
    flag: 'cloud',
    file: 'https://file.example',
    env: 'https://env.example',
    cli: 'https://flag.example',
    read: (c: RelayConfig) => c.camera.cloud,
    want: [
      'https://trio-relay.machinefi.com',
      'https://file.example',
      'https://env.example',
      'https://flag.example',
    ],
  },
  {
    flag: 'max-spool-mb',
    file: '64',
    env: '128',
    cli: '256',
    read: (c: RelayConfig) => c.camera.maxSpoolBytes / 1024 / 1024,
    want: [512, 64, 128, 256],
  },
  {
    flag: 'audio',
    file: 'copy',
    env: 'aac',
    cli: 'off',
    read: (c: RelayConfig) => c.camera.audio,
    want: ['off', 'copy', 'aac', 'off'],
  },
] as const;

describe('precedence: flags > env > file > defaults', () => {
  it.each(CASES)('--$flag', async ({ flag, file, env, cli, read, want }) => {
    const path = configFile(`${flag}: ${file}\n`);
    const name = envName(flag);
    expect(read(await relayConfig([]))).toBe(want[0]);
    expect(read(await relayConfig(['--config', path]))).toBe(want[1]);
    expect(read(await relayConfig(['--config', path], { [name]: env }))).toBe(want[2]);
    expect(read(await relayConfig(['--config', path, `--${flag}`, cli], { [name]: env }))).toBe(want[3]);
    // Each source on its own, too: no layer needs another one below it.
    expect(read(await relayConfig([], { [name]: env }))).toBe(want[2]);
    expect(read(await relayConfig([`--${flag}`, cli]))).toBe(want[3]);
  });

  it('a whole file, some settings overridden by env and flags, the rest from the file', async () => {
    const path = configFile(
      ['source: rtsp://cam/file', 'fps: 5', 'segment-duration: 2', 'codec: copy', 'verbose: true'].join('\n'),
    );
    const sources = new SettingSources();
    setEnv({ TRIO_SEGMENT_DURATION: '4', TRIO_TOKEN: 'env-key' });
    const invocation = await parseCommandLine(['--config', path, '--fps', '8'], sources);
    expect(invocation.command).toBe('relay');
    const config = resolveRelayConfig((invocation as { flags: object }).flags, {});
    expect(config.camera).toMatchObject({
      fps: 8,
      segmentDurationS: 4,
      codec: 'copy',
      token: 'env-key',
      source: { kind: 'rtsp' },
    });
    expect(config.process.verbose).toBe(true);
  });

  it('TRIO_CONFIG names the file; --config beats it', async () => {
    const fromEnv = configFile('fps: 2\n');
    const fromFlag = configFile('fps: 3\n');
    expect((await relayConfig([], { TRIO_CONFIG: fromEnv })).camera.fps).toBe(2);
    expect((await relayConfig(['--config', fromFlag], { TRIO_CONFIG: fromEnv })).camera.fps).toBe(3);
  });

  it('JSON is read too, and an empty file sets nothing', async () => {
    expect(
      (await relayConfig(['--config', configFile('{"fps": 6, "json": true}', 'r.json')])).camera.fps,
    ).toBe(6);
    expect((await relayConfig(['--config', configFile('# nothing yet\n')])).camera.fps).toBe(1);
  });

  it('booleans from env say true or false', async () => {
    expect((await relayConfig([], { TRIO_VERBOSE: 'true' })).process.verbose).toBe(true);
    expect((await relayConfig([], { TRIO_JSON: 'false' })).process.json).toBe(false);
    expect(await rejection(relayConfig([], { TRIO_JSON: '1' }))).toBe('TRIO_JSON=1: expected true or false');
  });
});

describe('the API key: --token and --token-file are one setting', () => {
  const keyFile = () => configFile('file-key\n', 'key');

  it('the higher source wins, whichever form it takes', async () => {
    const file = keyFile();
    const base = ['--source', 'testsrc'];
    const token = async (argv: string[], env: Record<string, string> = {}) => {
      setEnv(env);
      const invocation = await parseCommandLine([...base, ...argv], new SettingSources());
      return resolveRelayConfig((invocation as { flags: object }).flags, {}).camera.token;
    };
    expect(await token(['--token-file', file], { TRIO_TOKEN: 'env-key' })).toBe('file-key');
    expect(await token(['--token', 'flag-key'], { TRIO_TOKEN_FILE: file })).toBe('flag-key');
    expect(await token(['--config', configFile('token: cfg-key\n')], { TRIO_TOKEN_FILE: file })).toBe(
      'file-key',
    );
    expect(await token(['--config', configFile(`token-file: ${file}\n`)], { TRIO_TOKEN: 'env-key' })).toBe(
      'env-key',
    );
  });

  it('both from one source is refused, naming them', async () => {
    const file = keyFile();
    expect(await rejection(parse(['-s', 'testsrc'], { TRIO_TOKEN: 'a', TRIO_TOKEN_FILE: file }))).toBe(
      'TRIO_TOKEN and TRIO_TOKEN_FILE are both set: give only one',
    );
    const both = configFile(`token: a\ntoken-file: ${file}\n`);
    expect(await rejection(parse(['-s', 'testsrc', '--config', both]))).toMatch(
      /^"token" in config file .* and "token-file" in config file .* are both set: give only one$/,
    );
  });
});

describe('errors name the source of the bad value', () => {
  it('TRIO_* and the file', async () => {
    expect(await rejection(relayConfig([], { TRIO_FPS: 'many' }))).toBe(
      '--fps many: expected frames per second from 0.1 to 120 (from TRIO_FPS)',
    );
    const path = configFile('upload-timeout: soon\n');
    expect(await rejection(relayConfig(['--config', path]))).toMatch(
      new RegExp(
        `^--upload-timeout soon: expected a duration .* \\(from "upload-timeout" in config file ${path}\\)$`,
      ),
    );
    // The flag typed wins, and is the one named.
    expect(await rejection(relayConfig(['--fps', 'lots'], { TRIO_FPS: '2' }))).toBe(
      '--fps lots: expected frames per second from 0.1 to 120',
    );
  });
});

describe('each command takes only its own TRIO_* variables', () => {
  it('others are ignored, not "Unknown argument"', async () => {
    const env = { TRIO_SOURCE: 'testsrc', TRIO_NO_BUNDLED_FFMPEG: '1', TRIO_TEST_DEPS_PYTHON: 'x' };
    const server = await parse(['ingest-server'], {
      ...env,
      TRIO_CONFIG: '/etc/trio-relay.yaml',
      TRIO_PORT: '0',
      TRIO_TOKEN: 'ingest-key',
    });
    expect(server).toMatchObject({ command: 'ingest-server', flags: { port: '0', token: 'ingest-key' } });
    expect(server).not.toHaveProperty('flags.source');
    const demo = await parse(['demo'], { ...env, TRIO_DURATION: '5s' });
    expect(demo).toMatchObject({ command: 'demo', flags: { duration: '5s' } });
    expect(await parse([], env)).toMatchObject({ command: 'relay', flags: { source: 'testsrc' } });
  });

  it('an unknown flag is still refused', async () => {
    expect(await rejection(parse(['--sorce', 'x']))).toMatch(/Unknown argument: sorce/);
    // The config file is the relay's.
    expect(await rejection(parse(['ingest-server', '--config', 'x.yaml']))).toMatch(
      /Unknown argument: config/,
    );
  });
});

describe('the option table', () => {
  it('gives every relay flag its TRIO_* name by one rule', () => {
    expect(Object.keys(RELAY_SETTINGS).map(envName)).toEqual(
      expect.arrayContaining([
        'TRIO_SOURCE',
        'TRIO_CLOUD',
        'TRIO_TOKEN',
        'TRIO_SEGMENT_DURATION',
        'TRIO_MAX_SPOOL_MB',
      ]),
    );
  });
});

describe('a value starting with a dash and a digit (issue 22)', () => {
  const takes = valueFlags(RELAY_SETTINGS);

  it('is joined to the flag before it when that flag takes a value', () => {
    expect(joinDashValues(['--upload-timeout', '-5s', '-t', '-1', '--json', '-5'], takes)).toEqual([
      '--upload-timeout=-5s',
      '-t=-1',
      '--json',
      '-5',
    ]);
    expect(joinDashValues(['--fps', '-.5', '--', '--fps', '-1'], takes)).toEqual([
      '--fps=-.5',
      '--',
      '--fps',
      '-1',
    ]);
    expect(joinDashValues(['--source', '-x', '--config', '-1.yaml'], takes)).toEqual([
      '--source',
      '-x',
      '--config=-1.yaml',
    ]);
  });

  it('reaches the validator, named', async () => {
    expect(await rejection(relayConfig(['--retry-max', '-2m']))).toMatch(
      /^--retry-max -2m: expected a duration/,
    );
  });
});

describe('an empty value (issue 22)', () => {
  it('names the flag, the variable, or the key', async () => {
    expect(await rejection(parse(['-s', 'testsrc', '--ca-file', '']))).toBe(
      '--ca-file is empty: give it a value, or leave the flag out',
    );
    expect(await rejection(parse(['-s', 'testsrc'], { TRIO_TOKEN_FILE: '' }))).toBe(
      'TRIO_TOKEN_FILE is set but empty: give it a value, or unset it',
    );
    expect(await rejection(parse(['discover', '--discover-address', ' ']))).toMatch(
      /^--discover-address is empty/,
    );
    expect(await rejection(parse(['demo'], { TRIO_OUT: '' }))).toMatch(/^TRIO_OUT is set but empty/);
  });
});
