import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Copy,
  DockerfileParser,
  type Env,
  type Instruction,
  type JSONInstruction,
} from 'dockerfile-ast';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { dockerContextFiles, dockerIgnores, filesUnder } from './docker-context.js';
import { ROOT, readRepoFile } from './recipes.js';

// Asynchronous: a synchronous child for minutes would stall the test worker's heartbeat.
const run = promisify(execFile);
const dockerfile = DockerfileParser.parse(readRepoFile('docker/Dockerfile'));
const instructions = dockerfile.getInstructions();
const froms = dockerfile.getFROMs();
const runtimeStart = froms.at(-1)!;

/** The instructions of one stage, from its FROM (exclusive) to the next. */
function stage(from: Instruction): Instruction[] {
  const start = instructions.indexOf(from) + 1;
  const next = instructions.findIndex((i, n) => n >= start && i.getKeyword() === 'FROM');
  return instructions.slice(start, next === -1 ? undefined : next);
}
const buildStage = stage(froms[0]!);
const runtimeStage = stage(runtimeStart);
const ofKind = (list: Instruction[], keyword: string) => list.filter((i) => i.getKeyword() === keyword);
const copyArgs = (copy: Instruction) => copy.getArguments().map((a) => a.getValue());
const jsonForm = (i: Instruction) => (i as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
const runtimeEnv = new Map(
  ofKind(runtimeStage, 'ENV').flatMap((e) =>
    (e as Env).getProperties().map((p) => [p.getName(), p.getValue()] as const),
  ),
);

describe('docker/Dockerfile', () => {
  it('is multi-stage on slim Debian Node images: build with dev dependencies, run with production ones', () => {
    expect(froms.length).toBe(2);
    for (const from of froms) {
      expect(from.getImageName()).toBe('node');
      expect(from.getImageTag()).toMatch(/^\d+-(bookworm|trixie)-slim$/);
    }
    expect(froms[0]!.getBuildStage()).toBe('build');
    const buildRuns = ofKind(buildStage, 'RUN').map((r) => r.getArgumentsContent());
    expect(buildRuns[0]).toMatch(/^npm ci\b/);
    expect(buildRuns[0]).not.toMatch(/--omit=dev/);
    expect(buildRuns).toContain('npm run build');
    expect(buildRuns.at(-1)).toMatch(/^npm prune --omit=dev/);
    // The runtime stage takes node_modules from the pruned build stage, and no npm runs there.
    const fromBuild = ofKind(runtimeStage, 'COPY').filter(
      (c) => (c as Copy).getFromFlag()?.getValue() === 'build',
    );
    expect(fromBuild.map((c) => copyArgs(c)[0])).toEqual(
      expect.arrayContaining(['/app/node_modules', '/app/dist', '/app/package.json']),
    );
    expect(
      ofKind(runtimeStage, 'RUN')
        .map((r) => r.getArgumentsContent())
        .join('\n'),
    ).not.toMatch(/\bnpm\b/);
  });

  it("installs Debian's ffmpeg, setpriv's util-linux, CA roots and tini in the runtime stage", () => {
    const apt = ofKind(runtimeStage, 'RUN')
      .map((r) => r.getArgumentsContent() ?? '')
      .find((r) => r.includes('apt-get install'));
    expect(apt).toBeDefined();
    for (const pkg of ['ffmpeg', 'util-linux', 'ca-certificates', 'tini'])
      expect(apt).toMatch(new RegExp(`\\s${pkg}\\b`));
    expect(apt).toMatch(/--no-install-recommends/);
    expect(apt).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('runs as a non-root user that owns the spool volume, whose spool is a subdirectory', () => {
    const [user] = ofKind(runtimeStage, 'USER');
    expect(user?.getArgumentsContent()).toBe('node');
    const [volume] = ofKind(runtimeStage, 'VOLUME');
    const mount = volume!.getArgumentsContent()!;
    const install = ofKind(runtimeStage, 'RUN')
      .map((r) => r.getArgumentsContent() ?? '')
      .find((r) => r.startsWith('install -d'));
    expect(install).toMatch(new RegExp(`-o node -g node -m 07[05]0 ${mount}$`));
    // The ownership is set before VOLUME: Docker copies it into a new named volume.
    expect(
      instructions.indexOf(ofKind(runtimeStage, 'RUN').find((r) => r.getArgumentsContent() === install)!),
    ).toBeLessThan(instructions.indexOf(volume!));
    expect(runtimeEnv.get('TRIO_SPOOL_DIR')).toBe(`${mount}/spool`);
  });

  it('stops with SIGTERM, checks /healthz, and runs the relay under tini in exec form', () => {
    expect(ofKind(runtimeStage, 'STOPSIGNAL')[0]?.getArgumentsContent()).toBe('SIGTERM');
    const [healthcheck] = ofKind(runtimeStage, 'HEALTHCHECK');
    expect(healthcheck!.getArgumentsContent()).toMatch(/CMD \["node", "\/app\/docker\/healthcheck\.mjs"\]$/);
    expect(runtimeEnv.get('TRIO_METRICS_PORT')).toBe('9464');
    expect(runtimeEnv.get('TRIO_METRICS_HOST')).toBe('0.0.0.0');
    expect(readRepoFile('docker/healthcheck.mjs')).toMatch(/\/healthz/);
    const [entrypoint] = ofKind(runtimeStage, 'ENTRYPOINT');
    // The shim itself, so its shebang's node flags apply (bin/trio-relay.js).
    expect(jsonForm(entrypoint!)).toEqual(['/usr/bin/tini', '--', '/app/bin/trio-relay.js']);
    expect(ofKind(runtimeStage, 'CMD')).toEqual([]);
  });

  it('copies only paths that exist in the build context (after .dockerignore), and no secret gets in', () => {
    const context = dockerContextFiles();
    const missing = ofKind(instructions, 'COPY')
      .filter((c) => (c as Copy).getFromFlag() === null)
      .flatMap((c) => copyArgs(c).slice(0, -1))
      .filter((source) => filesUnder(context, source).length === 0);
    expect(missing).toEqual([]);
    expect(context).toContain('package-lock.json');
    expect(context.filter((p) => /^(node_modules|dist|\.git|test)\//.test(p))).toEqual([]);
    for (const secret of ['docker/trio_token.txt', 'docker/camera.env', '.env', 'token.txt']) {
      expect(dockerIgnores(secret, readRepoFile('.dockerignore')), secret).toBe(true);
    }
  });
});

describe('docker build, replayed in a clean copy of the context', () => {
  const work = mkdtempSync(join(tmpdir(), 'docker-build-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Docker's COPY into WORKDIR /app, from the context or from a stage dir. */
  function copy(fromRoot: string, sources: string[], dest: string, appDir: string): void {
    const target = join(appDir, dest);
    for (const source of sources) {
      const from = join(fromRoot, source);
      const to = dest.endsWith('/') ? join(target, source.split('/').at(-1)!) : target;
      mkdirSync(dirname(to), { recursive: true });
      cpSync(from, to, { recursive: true });
    }
  }

  it('runs every build-stage command, and the runtime stage starts the relay from production dependencies only', async () => {
    const context = join(work, 'context');
    for (const file of dockerContextFiles()) {
      mkdirSync(dirname(join(context, file)), { recursive: true });
      cpSync(join(ROOT, file), join(context, file));
    }
    expect(ofKind(buildStage, 'WORKDIR')[0]?.getArgumentsContent()).toBe('/app');
    const buildApp = join(work, 'build', 'app');
    mkdirSync(buildApp, { recursive: true });
    for (const step of buildStage) {
      if (step.getKeyword() === 'COPY') {
        const args = copyArgs(step);
        copy(context, args.slice(0, -1), args.at(-1)!, buildApp);
      } else if (step.getKeyword() === 'RUN') {
        const command = step.getArgumentsContent()!;
        const env = { ...process.env, NODE_ENV: undefined, npm_config_loglevel: 'error' };
        await run('sh', ['-c', command], { cwd: buildApp, env, timeout: 240_000 }).catch((error) => {
          throw new Error(`RUN ${command} failed: ${error.message}\n${error.stdout}\n${error.stderr}`);
        });
      }
    }

    const runApp = join(work, 'run', 'app');
    mkdirSync(runApp, { recursive: true });
    for (const step of ofKind(runtimeStage, 'COPY')) {
      const args = copyArgs(step);
      const fromBuild = (step as Copy).getFromFlag()?.getValue() === 'build';
      const sources = args.slice(0, -1).map((s) => (fromBuild ? s.replace(/^\/app\//, '') : s));
      copy(fromBuild ? buildApp : context, sources, args.at(-1)!, runApp);
    }
    // Production dependencies only: no TypeScript, no vitest, no bundled ffmpeg.
    for (const dev of ['typescript', 'vitest', '@biomejs/biome', '@ffmpeg-installer/ffmpeg']) {
      expect(() => readFileSync(join(runApp, 'node_modules', dev, 'package.json')), dev).toThrow();
    }
    const [, , ...entry] = jsonForm(ofKind(runtimeStage, 'ENTRYPOINT')[0]!);
    const script = join(runApp, entry[0]!.replace(/^\/app\//, ''));
    // Run as the image runs it: the shim by its shebang (so it must be executable).
    const { stdout: version } = await run(script, ['--version']);
    expect(version.trim()).toBe(JSON.parse(readRepoFile('package.json')).version);
    const { stdout: help } = await run(script, ['--help']);
    expect(help).toMatch(/--drain-timeout/);
  }, 300_000);

  it('the HEALTHCHECK script fails, with the reason, while nothing answers on the metrics port', async () => {
    const port = await freePort();
    const check = spawnSync(process.execPath, [join(ROOT, 'docker/healthcheck.mjs')], {
      env: { ...process.env, TRIO_METRICS_PORT: String(port), TRIO_METRICS_HOST: '0.0.0.0' },
      encoding: 'utf8',
    });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`http://127.0.0.1:${port}/healthz`);
  });
});
