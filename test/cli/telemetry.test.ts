import { afterEach, describe, expect, it } from 'vitest';
import { readinessLimitsOf, startTelemetry, type Telemetry } from '../../src/cli/telemetry.js';
import { EventBus, type StampedEvent, type StatusSnapshot } from '../../src/telemetry/events.js';
import { ndjson } from '../../src/telemetry/ndjson.js';
import { schemaViolation } from '../helpers/ndjson-schema.js';
import { healthySnapshot } from '../telemetry/snapshot.js';

let telemetry: Telemetry | undefined;
afterEach(async () => {
  await telemetry?.close();
  telemetry = undefined;
});

/** The endpoint on a free port, with what the bus said and the base URL it logged. */
async function start() {
  const bus = new EventBus();
  const events: StampedEvent[] = [];
  const lines: string[] = [];
  bus.on((event) => events.push(event));
  bus.on(ndjson((line) => lines.push(line)));
  telemetry = await startTelemetry({ metricsPort: 0, metricsHost: '127.0.0.1' }, bus);
  const said = events.find((e) => e.type === 'log' && e.message.startsWith('metrics on '));
  const base = said?.type === 'log' ? /(http:\/\/\S+)\/metrics/.exec(said.message)?.[1] : undefined;
  return { telemetry: telemetry!, said, lines, base: base! };
}

const camera = (id: string, snapshot: () => StatusSnapshot) => ({ camera: id, snapshot });

describe('startTelemetry', () => {
  it('no --metrics-port, no endpoint', async () => {
    expect(await startTelemetry({ metricsPort: undefined, metricsHost: '127.0.0.1' }, new EventBus())).toBe(
      undefined,
    );
  });

  it('logs where it listens as an event of the process, with no camera, valid by the schema', async () => {
    const { said, lines, base } = await start();
    expect(said?.camera).toBe('');
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(event).not.toHaveProperty('camera');
    expect(schemaViolation(event)).toBeUndefined();
  });

  it('/readyz lists each camera judged by its own limits; a removed camera leaves /readyz and its gauges /metrics', async () => {
    const { telemetry, base } = await start();
    // Same numbers, different limits: 40 s without a closed segment is down for one only.
    const quiet = () => healthySnapshot({ sinceClosedS: 40 });
    const unwatchA = telemetry.watch(
      camera('cam-a', quiet),
      readinessLimitsOf({ stallTimeoutMs: 30_000, readyMaxBacklogMs: 60_000 }),
    );
    telemetry.watch(
      camera('cam-b', quiet),
      readinessLimitsOf({ stallTimeoutMs: 60_000, readyMaxBacklogMs: 60_000 }),
    );
    let res = await fetch(`${base}/readyz`);
    const body = (await res.json()) as {
      status: string;
      reasons: Array<{ camera: string; code: string }>;
      cameras: Array<{ camera: string; status: string; reasons: unknown[] }>;
    };
    expect(res.status).toBe(503);
    expect(body.status).toBe('not ready');
    expect(body.reasons.map((r) => [r.camera, r.code])).toEqual([['cam-a', 'camera-down']]);
    expect(body.cameras.map((c) => [c.camera, c.status, c.reasons.length])).toEqual([
      ['cam-a', 'not ready', 1],
      ['cam-b', 'ready', 0],
    ]);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      'trio_relay_backlog_age_seconds{camera="cam-a"}',
    );

    unwatchA();
    unwatchA(); // twice is harmless
    res = await fetch(`${base}/readyz`);
    expect([res.status, await res.json()]).toEqual([
      200,
      { status: 'ready', reasons: [], cameras: [{ camera: 'cam-b', status: 'ready', reasons: [] }] },
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toContain('trio_relay_backlog_age_seconds{camera="cam-a"}');
    expect(metrics).toContain('trio_relay_backlog_age_seconds{camera="cam-b"}');
  });

  it('readiness limits from one camera’s settings', () => {
    expect(readinessLimitsOf({ stallTimeoutMs: 6000, readyMaxBacklogMs: 60_000 })).toEqual({
      cameraDownAfterS: 6,
      maxBacklogS: 60,
      spoolNearRatio: 0.9,
    });
  });
});
