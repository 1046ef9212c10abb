import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { type Camera, startCamera, stopAllCameras } from '../helpers/camera.js';
import { type CliProcess, killAllClis } from '../helpers/cli.js';
import { stopRelay } from '../helpers/delivery.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, startRelay } from '../helpers/relay-run.js';
import {
  interpolate,
  panelQueries,
  promRegexLiteral,
  readDashboard,
  variableQueries,
} from './prometheus-dashboard.js';
import {
  type Alert,
  compressTime,
  type Prometheus,
  pollUntil,
  promtool,
  readRules,
  startPrometheus,
} from './prometheus-server.js';

/**
 * Debian's Prometheus scraping the built relay (real camera, real local ingest) every second
 * and evaluating the shipped alert rules, 30× faster, through an ingest outage; then every query
 * of the shipped Grafana dashboard against what it scraped.
 */
const CAMERA_ID = 'cam-prometheus';
/** Production minutes become test seconds: `for: 2m` → 4 s, `> 300` → `> 10`. */
const TIME_FACTOR = 30;

let camera: Camera;
let ingest: IngestServer;
let relay: CliProcess;
let prometheus: Prometheus | undefined;
let target: string;

beforeAll(async () => {
  camera = await startCamera();
  ingest = await startTestIngest();
  relay = startRelay(camera.url, ingest.url, newSpoolDir(), [
    ...['--camera-id', CAMERA_ID, '--metrics-port', '0'],
  ]);
  const [, host] = await relay.waitForOutput(/metrics on http:\/\/(127\.0\.0\.1:\d+)\/metrics/, 20_000);
  target = host!;
  prometheus = await startPrometheus(target, compressTime(readRules(), TIME_FACTOR));
});
afterAll(async () => {
  await prometheus?.stop();
  killAllClis();
  await ingest?.close();
  await stopAllCameras();
});

const active = (alerts: Alert[], name: string) => alerts.filter((a) => a.labels.alertname === name);

describe('a real Prometheus watching a relay', () => {
  it('fires TrioRelayBacklogOld during an ingest outage and clears it after', {
    timeout: 180_000,
  }, async () => {
    const p = prometheus!;
    // Scraped, and delivering: the backlog is young, its alert not even pending.
    await pollUntil(
      () => p.query(`trio_relay_segments_delivered_total{camera="${CAMERA_ID}"} >= 2`),
      (r) => r.length === 1,
      'two deliveries scraped',
    );
    expect(await p.query('up{job="trio-relay"}')).toMatchObject([{ value: [expect.any(Number), '1'] }]);
    expect(active(await p.alerts(), 'TrioRelayBacklogOld')).toEqual([]);

    await ingest.faults.down();
    const states = new Set<string>();
    const alerts = await pollUntil(
      () => p.alerts(),
      (all) => {
        for (const a of active(all, 'TrioRelayBacklogOld')) states.add(a.state);
        return active(all, 'TrioRelayBacklogOld').some((a) => a.state === 'firing');
      },
      'TrioRelayBacklogOld firing',
      90_000,
    );
    // Pending first: `for:` holds it back.
    expect(states).toContain('pending');
    // Nothing is lost while the ingest is away: the backlog waits on disk. (Camera-down is not
    // judged here: with time 30× faster, a loaded machine's 4 s pause in capture would be one.)
    expect(active(alerts, 'TrioRelayLosingVideo')).toEqual([]);
    const firing = active(alerts, 'TrioRelayBacklogOld').filter((a) => a.state === 'firing');
    expect(firing).toHaveLength(1);
    expect(firing[0]!.labels).toMatchObject({
      camera: CAMERA_ID,
      instance: target,
      job: 'trio-relay',
      severity: 'warning',
    });
    expect(firing[0]!.annotations.summary).toMatch(
      new RegExp(`^camera ${CAMERA_ID} on ${target}: backlog [\\d.]+s old$`),
    );
    expect(Number(firing[0]!.value)).toBeGreaterThan(300 / TIME_FACTOR);

    await ingest.faults.up();
    await pollUntil(
      () => p.alerts(),
      (all) => active(all, 'TrioRelayBacklogOld').length === 0,
      'TrioRelayBacklogOld resolved',
      90_000,
    );
    expect(
      (await p.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname),
    ).not.toContain('TrioRelayLosingVideo');
  });

  it('promtool check metrics finds no problem in /metrics', async () => {
    const text = await (await fetch(`http://${target}/metrics`)).text();
    // After the outage every kind of series is there: transient attempts, latencies, errors.
    expect(text).toMatch(/trio_relay_upload_attempts_total\{camera="cam-prometheus",outcome="transient"\}/);
    const run = await promtool(['check', 'metrics'], text);
    expect(run.stdout + run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('every query of the Grafana dashboard succeeds and returns the relay camera series', async () => {
    const p = prometheus!;
    const dashboard = readDashboard();
    const values = {
      instance: promRegexLiteral(target),
      camera: promRegexLiteral(CAMERA_ID),
      __rate_interval: '15s',
      __range: '5m',
    };
    for (const { variable, selector, label } of variableQueries(dashboard)) {
      const found = await p.labelValues(label, interpolate(selector, values));
      expect(found, `variable ${variable}`).toContain(label === 'instance' ? target : CAMERA_ID);
    }
    const queries = panelQueries(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const { where, expr } of queries) {
      const result = await p.query(interpolate(expr, values));
      expect(result.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const sample of result) {
        // A per-camera series is the relay's camera; a fleet total has no camera label.
        if (sample.metric.camera !== undefined) expect(sample.metric.camera, where).toBe(CAMERA_ID);
        if (sample.metric.instance !== undefined) expect(sample.metric.instance, where).toBe(target);
      }
    }
  });

  it('the relay still stops cleanly', async () => {
    expect(await stopRelay(relay)).toBe(0);
  });
});
