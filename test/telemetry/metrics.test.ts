import { describe, expect, it } from 'vitest';
import { EventBus, type RelayEvent } from '../../src/telemetry/events.js';
import { RelayMetrics } from '../../src/telemetry/metrics.js';
import { healthySnapshot } from './snapshot.js';

/** Metrics on their own registry, fed through a real bus, read back as Prometheus text. */
function setup() {
  let now = 1000;
  const metrics = new RelayMetrics({ defaultMetrics: false, now: () => now });
  const bus = new EventBus();
  bus.on(metrics.listener);
  const emit = bus.forCamera('cam-1');
  return {
    metrics,
    emit: (event: RelayEvent) => emit(event),
    advance: (ms: number) => {
      now += ms;
    },
    text: () => metrics.metrics(),
  };
}

/** The value of one series, e.g. `trio_relay_segments_closed_total{camera="cam-1"}`. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics listener', () => {
  it('counts segments closed, delivered, bytes and close→ack latency per camera', async () => {
    const { emit, advance, text } = setup();
    emit({ type: 'segment', phase: 'closed', sequence: 1, bytes: 1000, durationS: 2 });
    emit({ type: 'segment', phase: 'closed', sequence: 2, bytes: 3000, durationS: 2, clockJumpS: 5 });
    advance(1500);
    emit({ type: 'segment', phase: 'delivered', sequence: 1, bytes: 1000, attempt: 1 });
    emit({ type: 'segment', phase: 'delivered', sequence: 2, bytes: 3000, attempt: 1 });
    const t = await text();
    expect(value(t, 'trio_relay_segments_closed_total{camera="cam-1"}')).toBe(2);
    expect(value(t, 'trio_relay_segments_delivered_total{camera="cam-1"}')).toBe(2);
    expect(value(t, 'trio_relay_delivered_bytes_total{camera="cam-1"}')).toBe(4000);
    expect(value(t, 'trio_relay_clock_jumps_total{camera="cam-1"}')).toBe(1);
    expect(value(t, 'trio_relay_close_to_ack_seconds_count{camera="cam-1"}')).toBe(2);
    expect(value(t, 'trio_relay_close_to_ack_seconds_sum{camera="cam-1"}')).toBe(3);
    expect(value(t, 'trio_relay_close_to_ack_seconds_bucket{le="1",camera="cam-1"}')).toBe(0);
    expect(value(t, 'trio_relay_close_to_ack_seconds_bucket{le="2",camera="cam-1"}')).toBe(2);
  });

  it('seconds of video lost by reason, and evicted / dropped / rejected segments', async () => {
    const { emit, text } = setup();
    emit({ type: 'segment', phase: 'evicted', sequence: 1, bytes: 9, reason: 'evicted', durationS: 10 });
    emit({ type: 'segment', phase: 'evicted', sequence: 2, bytes: 9, reason: 'disk-full', durationS: 10 });
    emit({
      type: 'segment',
      phase: 'evicted',
      sequence: 3,
      bytes: 0,
      reason: 'unsalvageable',
      durationS: 4.5,
    });
    emit({ type: 'segment', phase: 'rejected', sequence: 4, bytes: 9, status: 400, durationS: 2 });
    const t = await text();
    expect(value(t, 'trio_relay_lost_seconds_total{camera="cam-1",reason="evicted"}')).toBe(10);
    expect(value(t, 'trio_relay_lost_seconds_total{camera="cam-1",reason="disk-full"}')).toBe(10);
    expect(value(t, 'trio_relay_lost_seconds_total{camera="cam-1",reason="unsalvageable"}')).toBe(4.5);
    expect(value(t, 'trio_relay_lost_seconds_total{camera="cam-1",reason="rejected"}')).toBe(2);
    expect(value(t, 'trio_relay_segments_evicted_total{camera="cam-1",reason="evicted"}')).toBe(1);
    expect(value(t, 'trio_relay_segments_evicted_total{camera="cam-1",reason="disk-full"}')).toBe(1);
    expect(value(t, 'trio_relay_segments_dropped_total{camera="cam-1",reason="unsalvageable"}')).toBe(1);
    expect(value(t, 'trio_relay_segments_rejected_total{camera="cam-1"}')).toBe(1);
  });

  it('upload and registration attempts by outcome, request durations, restarts, errors', async () => {
    const { emit, text } = setup();
    emit({ type: 'request', request: 'register', outcome: 'transient', durationS: 0.02, reason: 'HTTP 503' });
    emit({ type: 'request', request: 'register', outcome: 'ok', durationS: 0.01, status: 201 });
    emit({ type: 'request', request: 'ingest', outcome: 'ok', durationS: 0.2, sequence: 1 });
    emit({ type: 'request', request: 'ingest', outcome: 'transient', durationS: 2, sequence: 2 });
    emit({ type: 'request', request: 'ingest', outcome: 'reject', durationS: 0.1, sequence: 3, status: 400 });
    emit({ type: 'ffmpeg', phase: 'restarting', delayMs: 1000 });
    emit({ type: 'error', code: 'ERR_FFMPEG_EXIT', message: 'x' });
    const t = await text();
    for (const outcome of ['ok', 'transient', 'reject']) {
      expect(value(t, `trio_relay_upload_attempts_total{camera="cam-1",outcome="${outcome}"}`), outcome).toBe(
        1,
      );
    }
    expect(value(t, 'trio_relay_registration_attempts_total{camera="cam-1",outcome="transient"}')).toBe(1);
    expect(
      value(
        t,
        'trio_relay_request_duration_seconds_count{camera="cam-1",request="ingest",outcome="transient"}',
      ),
    ).toBe(1);
    expect(
      value(t, 'trio_relay_request_duration_seconds_sum{camera="cam-1",request="ingest",outcome="ok"}'),
    ).toBe(0.2);
    expect(value(t, 'trio_relay_ffmpeg_restarts_total{camera="cam-1"}')).toBe(1);
    expect(value(t, 'trio_relay_errors_total{camera="cam-1",code="ERR_FFMPEG_EXIT"}')).toBe(1);
  });

  it('gauges are read from the watched camera at scrape time, and go with it', async () => {
    const { metrics, text } = setup();
    let snapshot = healthySnapshot({ backlogAgeS: 42, pending: 3, spoolBytes: 300, sinceDeliveredS: 7 });
    const unwatch = metrics.watch({ camera: 'cam-1', snapshot: () => snapshot });
    let t = await text();
    expect(value(t, 'trio_relay_backlog_age_seconds{camera="cam-1"}')).toBe(42);
    expect(value(t, 'trio_relay_spool_pending_segments{camera="cam-1"}')).toBe(3);
    expect(value(t, 'trio_relay_spool_pending_bytes{camera="cam-1"}')).toBe(300);
    expect(value(t, 'trio_relay_last_delivered_age_seconds{camera="cam-1"}')).toBe(7);
    expect(value(t, 'trio_relay_last_closed_age_seconds{camera="cam-1"}')).toBe(1);
    expect(value(t, 'trio_relay_spool_limit_bytes{camera="cam-1"}')).toBe(512 * 1048576);
    // Series exist at 0 from the start, so increase() sees the first loss.
    expect(value(t, 'trio_relay_lost_seconds_total{camera="cam-1",reason="evicted"}')).toBe(0);
    expect(value(t, 'trio_relay_segments_delivered_total{camera="cam-1"}')).toBe(0);
    snapshot = healthySnapshot({ backlogAgeS: 50 });
    expect(value(await text(), 'trio_relay_backlog_age_seconds{camera="cam-1"}')).toBe(50);
    unwatch();
    t = await text();
    expect(value(t, 'trio_relay_backlog_age_seconds{camera="cam-1"}')).toBeUndefined();
  });

  it('labels carry the camera id, never a URL; registries are independent', async () => {
    const a = setup();
    const b = setup();
    a.emit({ type: 'segment', phase: 'closed', sequence: 1, bytes: 1, durationS: 1 });
    a.emit({ type: 'error', code: 'ERR_REGISTER', message: 'rtsp://admin:pw@cam failed' });
    const t = await a.text();
    expect(t).not.toMatch(/rtsp:|pw@/);
    expect(value(await b.text(), 'trio_relay_segments_closed_total{camera="cam-1"}')).toBeUndefined();
  });

  it("includes Node's default process metrics when asked", async () => {
    const metrics = new RelayMetrics();
    const t = await metrics.metrics();
    expect(t).toContain('process_cpu_user_seconds_total');
    expect(t).toContain('nodejs_eventloop_lag_seconds');
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('no gauge is named like a counter (`promtool check metrics` flags a `_total` gauge)', async () => {
    const t = await new RelayMetrics().metrics();
    expect(t).toContain('nodejs_active_handles ');
    expect(t).not.toMatch(/^# TYPE \S+_total (?!counter)/m);
  });

  it('two cameras: every relay series carries its camera label, and a removed camera loses its gauges', async () => {
    const metrics = new RelayMetrics({ defaultMetrics: false });
    const bus = new EventBus();
    bus.on(metrics.listener);
    const unwatchA = metrics.watch({ camera: 'cam-a', snapshot: () => healthySnapshot({ backlogAgeS: 3 }) });
    metrics.watch({ camera: 'cam-b', snapshot: () => healthySnapshot({ backlogAgeS: 9 }) });
    for (const camera of ['cam-a', 'cam-b']) {
      const emit = bus.forCamera(camera);
      emit({ type: 'segment', phase: 'closed', sequence: 1, bytes: 1, durationS: 1 });
      emit({ type: 'segment', phase: 'delivered', sequence: 1, bytes: 1, attempt: 1 });
      emit({ type: 'segment', phase: 'evicted', sequence: 2, bytes: 1, reason: 'evicted', durationS: 1 });
      emit({ type: 'segment', phase: 'evicted', sequence: 3, bytes: 1, reason: 'unreadable', durationS: 1 });
      emit({ type: 'segment', phase: 'rejected', sequence: 4, bytes: 1, status: 400, durationS: 1 });
      emit({ type: 'request', request: 'register', outcome: 'ok', durationS: 0.1 });
      emit({ type: 'request', request: 'ingest', outcome: 'ok', durationS: 0.1, sequence: 1 });
      emit({ type: 'ffmpeg', phase: 'restarting', delayMs: 1 });
      emit({ type: 'error', code: 'ERR_FFMPEG_EXIT', message: 'x' });
    }
    // What the process says itself is no camera's series.
    bus.forProcess()({ type: 'error', code: 'ERR_CONFIG', message: 'bad reload' });
    let t = await metrics.metrics();
    const samples = t.split('\n').filter((l) => l.startsWith('trio_relay_'));
    const names = new Set(samples.map((l) => l.replace(/[{ ].*$/, '').replace(/_(bucket|sum|count)$/, '')));
    // Every metric the relay defines shows up here, so none escapes the check below.
    const defined = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect([...names].sort()).toEqual([...defined].sort());
    for (const sample of samples) expect(sample, sample).toMatch(/[{,]camera="cam-[ab]"/);
    expect(t).not.toContain('camera=""');
    expect(value(t, 'trio_relay_backlog_age_seconds{camera="cam-a"}')).toBe(3);
    expect(value(t, 'trio_relay_backlog_age_seconds{camera="cam-b"}')).toBe(9);
    unwatchA();
    t = await metrics.metrics();
    expect(value(t, 'trio_relay_backlog_age_seconds{camera="cam-a"}')).toBeUndefined();
    expect(value(t, 'trio_relay_backlog_age_seconds{camera="cam-b"}')).toBe(9);
    // Counters stay: a counter that vanished would read as a reset.
    expect(value(t, 'trio_relay_segments_closed_total{camera="cam-a"}')).toBe(1);
  });
});
