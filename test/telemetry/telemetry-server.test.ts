import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Readiness } from '../../src/telemetry/readiness.js';
import { TelemetryServer } from '../../src/telemetry/telemetry-server.js';
import { listenOnFreePort } from '../helpers/ports.js';

let server: TelemetryServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(readiness: () => Readiness, port = 0): Promise<TelemetryServer> {
  server = await TelemetryServer.start({
    host: '127.0.0.1',
    port,
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'm 1\n' }),
    readiness,
  });
  return server;
}

describe('telemetry server', () => {
  it('serves /metrics, /healthz and /readyz (200 when ready)', async () => {
    const s = await start(() => ({ ready: true, reasons: [], cameras: [] }));
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    const metrics = await fetch(`${s.url}/metrics`);
    expect([metrics.status, metrics.headers.get('content-type'), await metrics.text()]).toEqual([
      200,
      'text/plain; version=0.0.4; charset=utf-8',
      'm 1\n',
    ]);
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', reasons: [], cameras: [] }]);
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    expect((await fetch(`${s.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('/readyz is 503 with the reasons as JSON, secrets masked', async () => {
    const failing = {
      camera: 'c',
      code: 'ingest-failing',
      message: 'rtsp://admin:hunter2@cam refused',
    } as const;
    const s = await start(() => ({
      ready: false,
      reasons: [failing],
      cameras: [{ camera: 'c', ready: false, reasons: [failing] }],
    }));
    const res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ status: 'not ready', reasons: [{ code: 'ingest-failing' }] });
    expect(body).not.toContain('hunter2');
  });

  it('/readyz lists each camera with its own status and reasons', async () => {
    const down = {
      camera: 'b',
      code: 'camera-down',
      message: 'no segment closed for 31 s (limit 30 s)',
    } as const;
    const s = await start(() => ({
      ready: false,
      reasons: [down],
      cameras: [
        { camera: 'a', ready: true, reasons: [] },
        { camera: 'b', ready: false, reasons: [down] },
      ],
    }));
    const res = await fetch(`${s.url}/readyz`);
    expect([res.status, await res.json()]).toEqual([
      503,
      {
        status: 'not ready',
        reasons: [down],
        cameras: [
          { camera: 'a', status: 'ready', reasons: [] },
          { camera: 'b', status: 'not ready', reasons: [down] },
        ],
      },
    ]);
  });

  it('a port in use is a listen error, not a crash', async () => {
    const taken = createServer();
    const port = await listenOnFreePort(taken);
    try {
      await expect(start(() => ({ ready: true, reasons: [], cameras: [] }), port)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      taken.close();
    }
  });
});
