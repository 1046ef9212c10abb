import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { type Camera, startCamera, stopAllCameras } from '../helpers/camera.js';
import { type CliProcess, killAllClis, startCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { TOKEN } from '../helpers/relay-run.js';
import { ROOT } from './recipes.js';

/**
 * The package as a user gets it: `npm pack` of this checkout, the tarball installed into an
 * empty prefix with `--omit=dev`, and the CLI run from that prefix's bin, outside the checkout,
 * with nothing on PATH but node (so ffmpeg is the optional bundled one, as on a fresh machine).
 */
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** A bound on the tarball, so a stray folder or source maps do not slip in unnoticed (README says its size). */
const MAX_TARBALL_BYTES = 250 * 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a user's shell gives npm: none of the outer `npm test`'s `npm_*` settings. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

async function npm(args: string[], cwd: string): Promise<Run> {
  const child = spawn('npm', args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`npm ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`);
  return { code, stdout, stderr };
}

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

let work: string;
let packed: Packed;
let prefix: string;
/** The installed `trio-relay`, as `npm install` linked it. */
let bin: string;
/** PATH with node only: `#!/usr/bin/env -S node` finds it, and no ffmpeg is found. */
let pathWithNodeOnly: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'e2e-package-'));
  // dist/ is built already (every CLI test needs it): --ignore-scripts packs it without running
  // `prepare`, which would rebuild dist/ under the other tests running from it.
  const pack = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  packed = (JSON.parse(pack.stdout) as Packed[])[0]!;
  prefix = join(work, 'prefix');
  mkdirSync(prefix);
  const started = Date.now();
  await npm(
    [
      ...['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'],
      ...['--prefix', prefix, join(work, packed.filename)],
    ],
    work,
  );
  // Reported, not asserted: the registry's speed is not the package's.
  console.log(`package: ${packed.filename} ${packed.size} B, installed in ${Date.now() - started} ms`);
  bin = join(prefix, 'node_modules', '.bin', 'trio-relay');
  const nodeDir = join(work, 'node-only');
  mkdirSync(nodeDir);
  symlinkSync(process.execPath, join(nodeDir, 'node'));
  pathWithNodeOnly = nodeDir;
}, 300_000);

afterAll(() => {
  killAllClis();
});

/** Run the installed CLI from the work dir (not the checkout), with node only on PATH. */
function installed(args: string[]): CliProcess {
  return startCli(args, { command: bin, cwd: work, env: { PATH: pathWithNodeOnly, FFMPEG_PATH: undefined } });
}

async function installedRun(args: string[]): Promise<Run> {
  const cli = installed(args);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe('the npm package, installed as users install it', () => {
  it('holds the CLI only: bin, dist without source maps, README, package.json', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths.filter((p) => !p.startsWith('dist/')).sort()).toEqual([
      'README.md',
      'bin/trio-relay.js',
      'package.json',
    ]);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    // Every shipped module is built from a source of this checkout: no stale file of a dirty dist/.
    const sources = new Set(
      readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))
        .map((p) => `dist/${p.replace(/\.ts$/, '.js')}`),
    );
    expect(paths.filter((p) => p.startsWith('dist/')).sort()).toEqual([...sources].sort());
    expect(packed.size).toBeLessThan(MAX_TARBALL_BYTES);
  });

  it('installs no devDependency, and every package the shipped code imports is a runtime dependency', () => {
    for (const dev of Object.keys(PACKAGE.devDependencies))
      expect(existsSync(join(prefix, 'node_modules', dev)), dev).toBe(false);
    const runtime = new Set([
      ...Object.keys(PACKAGE.dependencies),
      ...Object.keys(PACKAGE.optionalDependencies),
    ]);
    const dist = join(prefix, 'node_modules', 'trio-relay', 'dist');
    const imported = new Set<string>();
    for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js')) continue;
      const code = readFileSync(join(dist, file), 'utf8');
      // `from '…'`, `import('…')`, `require('…')`, `createRequire(…).resolve('…')`.
      for (const m of code.matchAll(/(?:\bfrom |\bimport\(|\brequire\(|\)\.resolve\()'([^'.][^']*)'/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        const parts = spec.split('/');
        imported.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    // The two loaded by path rather than by an import are found too.
    expect([...imported]).toEqual(expect.arrayContaining(['@ffmpeg-installer/ffmpeg', 'hls.js', 'undici']));
    for (const name of imported) expect(runtime, `${name} is imported by dist/`).toContain(name);
  });

  it('--version and --help work from the installed bin', async () => {
    const version = await installedRun(['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(PACKAGE.version);
    const help = await installedRun(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/trio-relay/);
    expect(help.stdout).toMatch(/--source/);
    expect(help.stdout).toMatch(/doctor/);
  });

  it('demo --duration 10 relays with the bundled ffmpeg and serves the viewer page while it runs', {
    timeout: 90_000,
  }, async () => {
    const demo = installed(['demo', '--duration', '10']);
    const timer = setTimeout(() => demo.kill('SIGKILL'), 60_000);
    try {
      const [, viewer, key] = await demo.waitForOutput(
        /^demo: watch it at (http:\/\/127\.0\.0\.1:\d+\/)#key=(\S+)$/m,
        30_000,
        'stderr',
      );
      const page = await fetch(viewer!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('<script src="/viewer/hls.js"></script>');
      // hls.js from the installed package, as the page loads it.
      const hls = await fetch(new URL('/viewer/hls.js', viewer));
      expect(hls.status).toBe(200);
      expect(hls.headers.get('content-type')).toMatch(/javascript/);
      expect((await hls.text()).length).toBeGreaterThan(100_000);
      // The page's data: the demo camera, once its first segment arrived.
      await demo.waitForOutput(/RELAYING \| up/, 30_000, 'stderr');
      const cameras = await fetch(new URL('/viewer/api/cameras', viewer), { headers: { 'x-api-key': key! } });
      expect(cameras.status).toBe(200);
      expect(JSON.stringify(await cameras.json())).toMatch(/demo/);

      const { code } = await demo.exited;
      const stderr = demo.stderr();
      expect(code, stderr).toBe(0);
      expect(stderr.split('\n')[0]).toMatch(/^demo: watch it at/);
      const summary = /the relay sent (\d+) segment\(s\), [\d.]+ KiB; the ingest received (\d+) segment/.exec(
        stderr,
      );
      expect(summary, stderr).not.toBeNull();
      expect(Number(summary![1])).toBeGreaterThan(0);
      expect(summary![2]).toBe(summary![1]);
    } finally {
      clearTimeout(timer);
    }
  });

  describe('doctor, against a real camera and a local ingest', () => {
    let camera: Camera;
    let ingest: IngestServer;
    beforeAll(async () => {
      camera = await startCamera();
      ingest = await startTestIngest();
    });
    afterAll(async () => {
      await ingest?.close();
      await stopAllCameras();
    });

    it('runs every check, with the bundled ffmpeg, and passes: exit 0', { timeout: 90_000 }, async () => {
      const spool = mkdtempSync(join(tmpdir(), 'e2e-package-spool-'));
      const run = await installedRun([
        'doctor',
        ...['--source', camera.url, '--cloud', ingest.url, '--token', TOKEN, '--spool-dir', spool],
      ]);
      const out = run.stdout + run.stderr;
      for (const check of ['ffmpeg', 'source', 'ingest', 'api key', 'spool', 'clock'])
        expect(out, check).toMatch(new RegExp(`^✓ ${check} `, 'm'));
      // http: no certificate to check.
      expect(out).toMatch(/^- tls /m);
      expect(out).toMatch(/@ffmpeg-installer\/linux-x64\/ffmpeg/);
      expect(out).toMatch(/all checks passed/);
      expect(run.code, out).toBe(0);
      expect(out).not.toContain(TOKEN);
    });
  });
});
