import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { listenOnFreePort } from '../helpers/ports.js';
import { newSpoolDir, TOKEN } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

let camera: Camera;
let ingest: IngestServer;
beforeAll(async () => {
  camera = await startCamera({ fps: 10, keyint: 20 });
  ingest = await startTestIngest();
});
cleanUpAfterAll(() => ingest.close());

interface Check {
  check: string;
  status: string;
  detail: string;
  hint?: string;
}

async function doctor(args: string[]): Promise<{ code: number | null; checks: Check[]; stdout: string }> {
  const result = await runCli(['doctor', '--json', '--spool-dir', newSpoolDir(), ...args], {
    timeoutMs: 60_000,
  });
  const report = JSON.parse(result.stdout) as { v: number; ok: boolean; checks: Check[] };
  expect(report.v).toBe(1);
  expect(report.ok).toBe(result.code === 0);
  return { code: result.code, checks: report.checks, stdout: result.stdout };
}

const status = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.check, c.status]));

describe('trio-relay doctor', () => {
  it('all checks pass against a working camera and ingest: exit 0, and it tells what the camera carries', async () => {
    const human = await runCli(
      ['doctor', '-s', camera.url, '-t', TOKEN, '--cloud', ingest.url, '--spool-dir', newSpoolDir()],
      { timeoutMs: 60_000 },
    );
    expect(human.code, human.stdout + human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /✓ source\s+rtsp:\/\/127\.0\.0\.1:\d+\/stream: h264 320x240 10 fps, a keyframe every 20 frames \(2 s\)/,
    );
    expect(human.stdout).toMatch(/all checks passed/);

    const { code, checks } = await doctor(['-s', camera.url, '-t', TOKEN, '--cloud', ingest.url]);
    expect(code).toBe(0);
    expect(status(checks)).toEqual({
      ffmpeg: 'ok',
      source: 'ok',
      proxy: 'ok',
      ingest: 'ok',
      tls: 'skip',
      'api key': 'ok',
      spool: 'ok',
      clock: 'ok',
    });
  });

  it('a wrong key, a camera that is not there and copied video cut longer than the segment: each named, exit 1', async () => {
    const { code, checks } = await doctor([
      ...['-s', 'rtsp://admin:s3cret@127.0.0.1:9/none', '-t', 'wrong-key', '--cloud', ingest.url],
      ...['--io-timeout', '2s'],
    ]);
    expect(code).toBe(1);
    expect(status(checks)).toMatchObject({ source: 'fail', ingest: 'ok', 'api key': 'fail' });
    expect(checks.find((c) => c.check === 'api key')?.hint).toMatch(/check the API key/);
    expect(JSON.stringify(checks)).not.toContain('s3cret');

    const copy = await doctor([
      ...['-s', camera.url, '-t', TOKEN, '--cloud', ingest.url, '--codec', 'copy', '--segment-duration', '1'],
    ]);
    expect(copy.code).toBe(0);
    const source = copy.checks.find((c) => c.check === 'source')!;
    expect(source.status).toBe('warn');
    expect(source.hint).toMatch(/cut at keyframes/);
  });

  it("names the camera's audio codec, and warns that --audio copy cannot keep G.711 in MPEG-TS", async () => {
    const g711 = await startCamera({ audio: 'pcma' });
    const copy = await doctor(['-s', g711.url, '-t', TOKEN, '--cloud', ingest.url, '--audio', 'copy']);
    expect(copy.code).toBe(0);
    const source = copy.checks.find((c) => c.check === 'source')!;
    expect(source.detail).toMatch(/, audio pcm_alaw \(--audio copy\)$/);
    expect(source).toMatchObject({ status: 'warn', hint: expect.stringMatching(/use --audio aac/) });
    const aac = await doctor(['-s', g711.url, '-t', TOKEN, '--cloud', ingest.url, '--audio', 'aac']);
    expect(aac.checks.find((c) => c.check === 'source')?.status).toBe('ok');
    await g711.stop();
  });

  it('an ingest whose clock is an hour off, and one that refuses connections', async () => {
    // A real server whose Date header lies: the relay's clock (or the ingest's) is off.
    const skewed: Server = createServer((req, res) => {
      res.sendDate = false;
      res.setHeader('date', new Date(Date.now() - 3600_000).toUTCString());
      req.resume();
      req.on('end', () => res.writeHead(req.method === 'POST' ? 201 : 404).end());
    });
    const port = await listenOnFreePort(skewed);
    try {
      const url = `http://127.0.0.1:${port}`;
      const { code, checks } = await doctor(['-s', 'testsrc', '-t', TOKEN, '--cloud', url]);
      expect(code).toBe(1);
      const clock = checks.find((c) => c.check === 'clock')!;
      expect(clock.status).toBe('fail');
      const skew = Number(/^\+([\d.]+) s against the ingest's clock$/.exec(clock.detail)?.[1]);
      expect(Math.abs(skew - 3600)).toBeLessThan(2);
    } finally {
      skewed.close();
    }

    const refused = await doctor(['-s', 'testsrc', '-t', TOKEN, '--cloud', 'http://127.0.0.1:9']);
    expect(refused.code).toBe(1);
    expect(status(refused.checks)).toMatchObject({ ingest: 'fail', 'api key': 'skip', clock: 'skip' });
    expect(refused.checks.find((c) => c.check === 'ingest')?.detail).toMatch(/ECONNREFUSED/);
  });

  it('a camera refusing a password cut by an unquoted " #" in YAML: the source line says so, and why', async () => {
    const locked = await startCamera({ user: 'admin', password: 'pa #ss', auth: 'digest' });
    const config = join(tempDir('doctor-'), 'relay.yaml');
    // A camera taking its account in the query; YAML reads the password as "pa": the rest is a comment.
    writeFileSync(
      config,
      `source: ${locked.url}?user=admin&password=pa #ss\ntoken: ${TOKEN}\ncloud: ${ingest.url}\n`,
    );
    const { code, checks, stdout } = await doctor(['--config', config]);
    expect(code).toBe(1);
    const check = checks.find((c) => c.check === 'source')!;
    expect(check.status).toBe('fail');
    expect(check.detail).toMatch(
      /stream\?user=admin&password=pa: the camera refused the user and password \(/,
    );
    expect(check.hint).toMatch(
      /in a YAML config file, put the value in quotes: an unquoted ' #' starts a comment/,
    );
    expect(stdout).not.toContain('pa #ss');
    await locked.stop();
  });
});
