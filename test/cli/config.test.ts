import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_SETTINGS } from '../../src/cli/demo-settings.js';
import { DISCOVER_SETTINGS } from '../../src/cli/discover-settings.js';
import { INGEST_SERVER_SETTINGS } from '../../src/cli/ingest-server-settings.js';
import { RELAY_SETTINGS } from '../../src/cli/relay-settings.js';
import { envName, fileSchema } from '../../src/cli/settings.js';
import { readConfigFile } from '../../src/config/config-file.js';
import { killAllClis, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
const readme = readFileSync(new URL('README.md', root), 'utf8');

function configFile(text: string): string {
  const path = join(tempDir('cli-config-'), 'relay.yaml');
  writeFileSync(path, text);
  return path;
}

/** Exit 2 and exactly one line on stderr, nothing on stdout. */
async function oneLine(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const result = await runCli(args, { timeoutMs: 20_000, env });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('a bad config file: one line naming the file and the key, exit 2', () => {
  const good = ['--source', 'testsrc', '--token', 'tok-1234', '--cloud', 'http://127.0.0.1:9'];

  it.each([
    ['an unknown key', 'sorce: rtsp://cam\n', 'unknown key "sorce"'],
    ['a wrong type', 'fps: [1, 2]\n', 'key "fps" must be a number, not a list'],
    ['a bad value', 'segment-duration: -3\n', '--segment-duration -3: expected seconds'],
    ['unparsable YAML', 'fps: 1\ncloud: [x\n', 'not valid YAML or JSON at line'],
  ])('%s', async (_what, text, message) => {
    const path = configFile(text);
    const line = await oneLine([...good, '--config', path]);
    expect(line).toContain(path);
    expect(line).toContain(message);
  });

  it('an unreadable file, named by --config or TRIO_CONFIG', async () => {
    expect(await oneLine([...good, '--config', '/nonexistent/relay.yaml'])).toBe(
      'trio-relay: config file /nonexistent/relay.yaml: cannot read it (ENOENT)',
    );
    const dir = tempDir('cli-config-dir-');
    mkdirSync(join(dir, 'relay.yaml'));
    expect(await oneLine(good, { TRIO_CONFIG: join(dir, 'relay.yaml') })).toMatch(
      /^trio-relay: config file .*relay\.yaml: cannot read it \(EISDIR\)$/,
    );
  });

  it('a bad value from the environment names the variable', async () => {
    expect(await oneLine(good, { TRIO_UPLOAD_TIMEOUT: 'soon' })).toMatch(
      /^trio-relay: --upload-timeout soon: expected a duration .*\(from TRIO_UPLOAD_TIMEOUT\)$/,
    );
  });
});

describe('--version', () => {
  it.each([['--version'], ['-V'], ['ingest-server', '--version']])(
    '%s prints package.json version',
    async (...args) => {
      const result = await runCli(args, { timeoutMs: 20_000 });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${pkg.version}\n`);
      expect(result.stderr).toBe('');
    },
  );
});

describe('--help', () => {
  const tables = [
    [[], RELAY_SETTINGS],
    [['ingest-server'], INGEST_SERVER_SETTINGS],
    [['demo'], DEMO_SETTINGS],
    [['discover'], DISCOVER_SETTINGS],
  ] as const;

  it.each(tables)(
    '%j: every flag, examples, the env rule; every flag in the README',
    async (command, table) => {
      const result = await runCli([...command, '--help'], { timeoutMs: 20_000 });
      expect(result.code).toBe(0);
      const help = result.stdout;
      for (const flag of Object.keys(table)) {
        expect(help, flag).toMatch(new RegExp(`--${flag}\\s`));
        expect(readme, `README documents --${flag}`).toContain(`\`--${flag}`);
      }
      expect(help).toMatch(/Examples:\n {2}trio-relay /);
      expect(help).toContain('TRIO_FLAG_NAME');
      // Whatever else the help lists (the metrics and TLS flags, --config …) is in the README too.
      for (const [, flag] of help.matchAll(/^\s+(?:-\w, )?--([a-z][a-z-]+)/gm)) {
        if (flag !== 'help' && flag !== 'version')
          expect(readme, `README documents --${flag}`).toContain(`--${flag}`);
      }
    },
  );

  it('shows numbers as numbers and defaults as values, and has an example per kind of source', async () => {
    const help = (await runCli(['--help'], { timeoutMs: 20_000 })).stdout;
    expect(help).toMatch(/--fps .*\[number\] \[default: 1\]/);
    expect(help).toMatch(/--segment-duration .*\[number\] \[default: 10\]/);
    expect(help).toMatch(/--upload-timeout .*\[default: 30s\]/);
    for (const example of ['-s rtsp://', '-s ./clip.mp4', '-s /dev/video0', '--config ', 'trio-relay demo']) {
      expect(help).toContain(example);
    }
    expect(envName('segment-duration')).toBe('TRIO_SEGMENT_DURATION');
  });
});

describe('the README', () => {
  it('sample config file is one the relay accepts', () => {
    const sample = /```yaml\n(# \/etc\/trio-relay\.yaml[\s\S]*?)```/.exec(readme)?.[1];
    expect(sample).toBeDefined();
    const values = readConfigFile(configFile(sample!), fileSchema(RELAY_SETTINGS));
    expect(values).toMatchObject({ source: expect.stringMatching(/^rtsp:/), 'segment-duration': 4 });
  });
});
