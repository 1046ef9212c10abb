import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startCamera, stopAllCameras } from '../helpers/camera.js';
import { cliPath } from '../helpers/cli.js';
import { acceptedSequences, expectCameraDelivered } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import type { RelayRunWindow } from '../helpers/oracle.js';
import { freePort } from '../helpers/ports.js';
import { fastRelayArgs, newSpoolDir, spoolDirs, TOKEN } from '../helpers/relay-run.js';
import { DOCKER_DIR } from './recipes.js';

const LOOP = `${DOCKER_DIR}trio-relay-loop.sh`;
const HEALTHCHECK = `${DOCKER_DIR}healthcheck.mjs`;
// Long enough for Node's start, ffmpeg's connect and a few 1 s segments on a loaded 2-core box.
const PERIOD_S = 10;
const CAMERA_ID = 'cam-loop';
const run = promisify(execFile);

const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stopAllCameras();
});

interface LoopRun {
  window: RelayRunWindow;
  exitCode?: number;
  closed: number[];
}

/** The wrapper's runs as its stderr tells them, each with the segments its relay closed (NDJSON). */
function watchLoop(
  child: ChildProcess,
  onLine: (line: string) => void,
): { runs: LoopRun[]; stderr: () => string } {
  const runs: LoopRun[] = [];
  let text = '';
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    text += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const started = /^trio-relay-loop: run (\d+): starting/.exec(line);
      const exited = /^trio-relay-loop: run (\d+): exited (\d+)/.exec(line);
      if (started)
        runs.push({ window: { startedAt: Date.now(), endedAt: 0, label: `run ${started[1]}` }, closed: [] });
      else if (exited) {
        runs.at(-1)!.window.endedAt = Date.now();
        runs.at(-1)!.exitCode = Number(exited[2]);
      } else if (line.startsWith('{')) {
        const event = JSON.parse(line) as { type: string; phase?: string; sequence?: number };
        if (event.type === 'segment' && (event.phase === 'closed' || event.phase === 'salvaged')) {
          runs.at(-1)!.closed.push(event.sequence!);
        }
      }
      onLine(line);
    }
  });
  return { runs, stderr: () => text };
}

/** The relay's flags from fastRelayArgs, less the source and the token (those come from the env file). */
function flagsWithoutSecrets(cloud: string, spool: string, extra: string[]): string[] {
  const all = fastRelayArgs('unused', cloud, spool, extra);
  return all.filter(
    (arg, i) => !['--source', '--token'].includes(arg) && !['--source', '--token'].includes(all[i - 1]!),
  );
}

describe('docker/trio-relay-loop.sh', () => {
  it('runs the relay for two periods under timeout: every segment closed in either period arrives', async () => {
    const camera = await startCamera();
    const ingest = await startTestIngest();
    const spool = newSpoolDir();
    const metricsPort = await freePort();
    // The camera URL and the token as an operator's root-only env file gives them: in no argv.
    const envFile = join(mkdtempSync(join(tmpdir(), 'loop-env-')), 'camera.env');
    writeFileSync(envFile, `TRIO_SOURCE='${camera.url}'\nTRIO_TOKEN='${TOKEN}'\n`, { mode: 0o600 });
    const since = Date.now();
    const child = spawn(
      'sh',
      [LOOP, ...flagsWithoutSecrets(ingest.url, spool, ['--metrics-port', String(metricsPort)])],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          TRIO_CAMERA_ID: CAMERA_ID,
          TRIO_ENV_FILE: envFile,
          TRIO_LOOP_PERIOD: String(PERIOD_S),
          TRIO_LOOP_GRACE: '10',
          TRIO_LOOP_RUNS: '2',
          TRIO_RELAY: cliPath,
        },
      },
    );
    children.add(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // The HEALTHCHECK script, for real, against the first run's relay once it serves health.
    let healthy: Promise<{ stdout: string; stderr: string }> | undefined;
    const loop = watchLoop(child, (line) => {
      if (!healthy && loop.runs.length === 1 && line.includes('"message":"metrics on http://')) {
        healthy = run(process.execPath, [HEALTHCHECK], {
          env: { ...process.env, TRIO_METRICS_PORT: String(metricsPort), TRIO_METRICS_HOST: '0.0.0.0' },
        });
      }
    });

    const code = await exited;
    children.delete(child);
    const report = loop.stderr().slice(-4000);
    expect(code, report).toBe(0);
    expect(
      loop.runs.map((r) => r.exitCode),
      report,
    ).toEqual([0, 0]);
    expect(healthy, `no health endpoint in run 1:\n${report}`).toBeDefined();
    await expect(healthy, 'the HEALTHCHECK script while the relay ran').resolves.toBeDefined();
    for (const { window, closed } of loop.runs) {
      // Each run was stopped by timeout's SIGTERM at the period, and drained in time.
      const lastedS = (window.endedAt - window.startedAt) / 1000;
      expect(lastedS, window.label).toBeGreaterThanOrEqual(PERIOD_S);
      expect(lastedS, window.label).toBeLessThan(PERIOD_S + 7 + 1);
      expect(closed.length, `${window.label} closed segments`).toBeGreaterThanOrEqual(2);
    }

    // Every segment closed in either run was accepted by the ingest, and none is left behind.
    const accepted = new Set(acceptedSequences(ingest, CAMERA_ID));
    const closed = loop.runs.flatMap((r) => r.closed);
    expect(
      closed.filter((s) => !accepted.has(s)),
      report,
    ).toEqual([]);
    expect(spoolDirs(spool)).toEqual([]);
    // And from outside: what the camera streamed in both runs is what the ingest stored.
    await expectCameraDelivered({
      ingest,
      cameraId: CAMERA_ID,
      camera,
      spool,
      since,
      runs: loop.runs.map((r) => r.window),
    });
    await ingest.close();
  }, 120_000);

  it('refuses to start without a pinned camera id', async () => {
    const { TRIO_CAMERA_ID: _, TRIO_CONFIG: __, ...env } = process.env;
    const refused = await run('sh', [LOOP, '--source', 'testsrc'], { env }).catch((error) => error);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/set TRIO_CAMERA_ID/);
  });
});
