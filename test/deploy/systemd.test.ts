import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { durationSeconds, leastStopTimeoutS, readRepoFile } from './recipes.js';

const UNIT_FILE = 'docker/trio-relay@.service';
const run = promisify(execFile);

/** `[Section]` → key → every value given (a unit may repeat a key, e.g. Environment=). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`${UNIT_FILE}: not a key=value line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const unit = parseUnit(readRepoFile(UNIT_FILE));
const service = unit.get('Service')!;
const one = (key: string) => {
  const values = service.get(key);
  expect(values, key).toHaveLength(1);
  return values![0]!;
};
const environment = new Map(
  (service.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
);

describe('docker/trio-relay@.service', () => {
  it('stops the relay alone with SIGTERM, within a timeout that fits its drain, and always restarts', () => {
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('KillMode')).toBe('mixed');
    expect(durationSeconds(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(
      leastStopTimeoutS(environment.get('TRIO_DRAIN_TIMEOUT')),
    );
    expect(one('Restart')).toBe('always');
    expect(one('RestartPreventExitStatus').split(/\s+/).sort()).toEqual(['2', '3', '5']);
    expect(unit.get('Unit')!.get('StartLimitIntervalSec')).toEqual(['0']);
  });

  it('pins the camera id to the instance name and keeps the spool in its own StateDirectory', () => {
    expect(environment.get('TRIO_CAMERA_ID')).toBe('%i');
    expect(one('StateDirectory')).toBe('trio-relay/%i');
    expect(one('StateDirectoryMode')).toBe('0700');
    expect(environment.get('TRIO_SPOOL_DIR')).toBe('%S/trio-relay/%i/spool');
    expect(one('DynamicUser')).toBe('yes');
  });

  it('keeps the camera password and the token out of the unit and argv', () => {
    expect(one('EnvironmentFile')).toBe('/etc/trio-relay/%i.env');
    expect(environment.has('TRIO_SOURCE')).toBe(false);
    expect(environment.has('TRIO_TOKEN')).toBe(false);
    expect(one('LoadCredential')).toBe('token:/etc/trio-relay/token');
    // systemd's own ${…} expansion, not a template literal.
    const credentialsDir = '$' + '{CREDENTIALS_DIRECTORY}';
    expect(one('ExecStart')).toBe(`/usr/bin/env trio-relay --token-file ${credentialsDir}/token`);
  });

  it('is sandboxed', () => {
    const expected = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictNamespaces: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      UMask: '0077',
      // Other users see neither the relay nor its ffmpeg, whose argv holds the camera URL.
      ProtectProc: 'invisible',
    };
    for (const [key, value] of Object.entries(expected)) expect(one(key), key).toBe(value);
    // V8's JIT writes executable memory.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });

  // ensure-test-deps (npm test's pretest) installs Debian's systemd package for this.
  it('passes `systemd-analyze verify` as an instance, with no warning', async () => {
    const version = await run('systemd-analyze', ['--version']).catch((error: Error) => {
      throw new Error(
        `systemd-analyze is needed to verify ${UNIT_FILE} (${error.message}): apt-get install systemd, or run npm test (its pretest installs it)`,
      );
    });
    expect(version.stdout).toMatch(/^systemd \d+/);
    const dir = mkdtempSync(join(tmpdir(), 'unit-'));
    writeFileSync(join(dir, 'trio-relay@.service'), readRepoFile(UNIT_FILE));
    symlinkSync('trio-relay@.service', join(dir, 'trio-relay@front-door.service'));
    const verify = await run(
      'systemd-analyze',
      ['verify', '--man=no', join(dir, 'trio-relay@front-door.service')],
      {
        cwd: dir,
      },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`systemd-analyze verify failed: ${error.stderr || error.message}`);
    });
    expect(verify.stderr).toBe('');
    // verify does report what is wrong: a misspelt key in a copy of the unit.
    writeFileSync(join(dir, 'trio-relay@.service'), readRepoFile(UNIT_FILE).replace('KillMode=', 'KilMode='));
    const broken = await run(
      'systemd-analyze',
      ['verify', '--man=no', join(dir, 'trio-relay@front-door.service')],
      {
        cwd: dir,
      },
    ).catch((error: { stderr: string }) => error);
    expect(broken.stderr).toMatch(/Unknown key 'KilMode'/);
  });
});
