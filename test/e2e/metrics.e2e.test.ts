import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll, killAfterTest, startIngestForTest } from '../helpers/cleanup.js';
import { type CliProcess, runCli } from '../helpers/cli.js';
import { stopRelay } from '../helpers/delivery.js';
import { listenOnFreePort } from '../helpers/ports.js';
import { fastRelayArgs, newSpoolDir, type RelayEvent, spoolDirs, startRelay } from '../helpers/relay-run.js';

/**
 * /metrics, /healthz and /readyz of the built CLI, relaying the real test camera to the real
 * local ingest: the counters follow what happened, and readiness follows an ingest outage.
 */
let camera: Camera;

beforeAll(async () => {
  camera = await startCamera();
});
cleanUpAfterAll();

interface Ready {
  status: number;
  body: { status: string; reasons: Array<{ camera: string; code: string; message: string }> };
}

async function readyz(base: string): Promise<Ready> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Ready['body'] };
}

/** Poll an endpoint (bounded, 200 ms apart) until `done` holds; the last answer on timeout. */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/** One series' value from Prometheus text, e.g. `trio_relay_segments_closed_total{camera="x"}`. */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

const events = (r: CliProcess) => r.events() as RelayEvent[];

describe('metrics and health endpoints', () => {
  it('count what happened, and readiness follows an ingest outage and its end', async () => {
    const ingest = await startIngestForTest();
    const id = 'cam-metrics';
    const relay = killAfterTest(
      startRelay(camera.url, ingest.url, newSpoolDir(), [
        ...['--camera-id', id, '--metrics-port', '0', '--ready-max-backlog', '6s'],
      ]),
    );
    // Listening before capture on a free port (0), and it says where.
    const [, base] = await relay.waitForOutput(/metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/, 20_000);
    if (!base) throw new Error('no metrics URL logged');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await relay.waitFor(
      () => events(relay).filter((e) => e.phase === 'delivered').length >= 3,
      30_000,
      '3 delivered segments',
    );
    await pollUntil(
      () => readyz(base),
      (r) => r.status === 200,
      'ready',
    );
    const label = `{camera="${id}"}`;
    const healthy = await (await fetch(`${base}/metrics`)).text();
    const delivered = series(healthy, `trio_relay_segments_delivered_total${label}`)!;
    const closed = series(healthy, `trio_relay_segments_closed_total${label}`)!;
    expect(delivered).toBeGreaterThanOrEqual(3);
    expect(closed).toBeGreaterThanOrEqual(delivered);
    // Counted from the relay's own events: never more than it reported (both only grow).
    const deliveredEvents = events(relay).filter((e) => e.phase === 'delivered');
    expect(delivered).toBeLessThanOrEqual(deliveredEvents.length);
    const bytes = series(healthy, `trio_relay_delivered_bytes_total${label}`)!;
    const firstBytes = deliveredEvents.slice(0, delivered).reduce((sum, e) => sum + Number(e.bytes), 0);
    expect(bytes).toBe(firstBytes);
    expect(
      series(healthy, `trio_relay_upload_attempts_total{camera="${id}",outcome="ok"}`),
    ).toBeGreaterThanOrEqual(delivered);
    expect(series(healthy, `trio_relay_close_to_ack_seconds_count${label}`)).toBeGreaterThan(0);
    expect(series(healthy, `trio_relay_spool_pending_segments${label}`)).toBeDefined();
    expect(healthy).toContain('process_resident_memory_bytes');
    expect(healthy).not.toContain(camera.url);
    expect(healthy).not.toContain('rtsp://');

    await ingest.faults.down();
    const failing = await pollUntil(
      () => readyz(base),
      (r) => r.body.reasons.some((x) => x.code === 'backlog-age'),
      'backlog-age',
    );
    expect(failing.status).toBe(503);
    expect(failing.body.status).toBe('not ready');
    expect(failing.body.reasons.map((x) => x.code)).toContain('ingest-failing');
    expect(failing.body.reasons.find((x) => x.code === 'ingest-failing')?.message).toMatch(/ECONNREFUSED/);
    const down = await (await fetch(`${base}/metrics`)).text();
    expect(
      series(down, `trio_relay_upload_attempts_total{camera="${id}",outcome="transient"}`),
    ).toBeGreaterThan(0);
    expect(series(down, `trio_relay_backlog_age_seconds${label}`)).toBeGreaterThan(6);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await ingest.faults.up();
    await pollUntil(
      () => readyz(base),
      (r) => r.status === 200,
      'ready again',
    );

    // A rejected segment is video lost, counted by reason in seconds.
    const faultedBefore = ingest.stats().faulted;
    ingest.faults.add({ kind: 'status', status: 400, count: 1 });
    await ingest.waitFor((s) => s.faulted > faultedBefore, 30_000);
    const afterReject = await pollUntil(
      async () => (await fetch(`${base}/metrics`)).text(),
      (t) => (series(t, `trio_relay_segments_rejected_total${label}`) ?? 0) >= 1,
      'a rejected segment',
    );
    const rejected = events(relay).filter((e) => e.phase === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(series(afterReject, `trio_relay_lost_seconds_total{camera="${id}",reason="rejected"}`)).toBe(
      rejected[0]!.durationS,
    );
    expect(Number(rejected[0]!.durationS)).toBeGreaterThan(0);
    expect(series(afterReject, `trio_relay_lost_seconds_total{camera="${id}",reason="evicted"}`)).toBe(0);

    expect(await stopRelay(relay)).toBe(0);
    // The endpoint goes with the process.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('a metrics port in use: one line, exit 2, before anything starts', async () => {
    const taken = createServer();
    const port = await listenOnFreePort(taken);
    const spool = newSpoolDir();
    try {
      const result = await runCli(
        fastRelayArgs('testsrc', 'http://127.0.0.1:9', spool, ['--metrics-port', String(port)]),
        { timeoutMs: 20_000 },
      );
      expect(result.code, result.stderr).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(JSON.parse(lines[0]!).message).toBe(
        `--metrics-port ${port} on 127.0.0.1: the port is already in use`,
      );
      expect(spoolDirs(spool)).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
