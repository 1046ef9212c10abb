import { ConfigError } from '../errors.js';
import type { EventBus, WatchedCamera } from '../telemetry/events.js';
import { type ReadinessLimits, SPOOL_NEAR_RATIO } from '../telemetry/readiness.js';
import type { TelemetryServer } from '../telemetry/telemetry-server.js';

/** Where the endpoint listens (--metrics-port, --metrics-host); no port, no endpoint. */
export interface TelemetryOptions {
  readonly metricsPort?: number | undefined;
  readonly metricsHost: string;
}

export interface Telemetry {
  /**
   * Metrics gauges and readiness follow this camera, judged by its own limits, until the
   * returned function is called (a camera removed at a reload: its gauges and its /readyz entry
   * go; its counters stay, as Prometheus expects of counters).
   */
  watch(camera: WatchedCamera, limits: ReadinessLimits): () => void;
  close(): Promise<void>;
}

/** One camera's readiness limits from its settings: down after its stall timeout, its --ready-max-backlog. */
export function readinessLimitsOf(camera: {
  readonly stallTimeoutMs: number;
  readonly readyMaxBacklogMs: number;
}): ReadinessLimits {
  return {
    cameraDownAfterS: camera.stallTimeoutMs / 1000,
    maxBacklogS: camera.readyMaxBacklogMs / 1000,
    spoolNearRatio: SPOOL_NEAR_RATIO,
  };
}

/**
 * --metrics-port: metrics as a bus listener, readiness from the cameras' snapshots, and the
 * endpoint serving both, for every camera of the process. Started before capture; a port that
 * cannot be bound is a ConfigError.
 */
export async function startTelemetry(
  options: TelemetryOptions,
  bus: EventBus,
): Promise<Telemetry | undefined> {
  if (options.metricsPort === undefined) return undefined;
  // Loaded only with --metrics-port: prom-client and the HTTP server cost ~5 MiB of RSS that a
  // relay nobody scrapes should not pay (README, "Where the memory goes").
  const [{ RelayMetrics }, { RelayHealth }, { TelemetryServer }] = await Promise.all([
    import('../telemetry/metrics.js'),
    import('../telemetry/health.js'),
    import('../telemetry/telemetry-server.js'),
  ]);
  const metrics = new RelayMetrics();
  const health = new RelayHealth();
  let server: TelemetryServer;
  try {
    server = await TelemetryServer.start({
      host: options.metricsHost,
      port: options.metricsPort,
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }),
      readiness: () => health.readiness(),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE' ? 'the port is already in use' : `cannot listen (${code ?? String(error)})`;
    throw new ConfigError(`--metrics-port ${options.metricsPort} on ${options.metricsHost}: ${why}`, {
      cause: error,
    });
  }
  const unsubscribe = bus.on(metrics.listener);
  bus.forProcess()({
    type: 'log',
    level: 'info',
    message: `metrics on ${server.url}/metrics, health on ${server.url}/healthz and ${server.url}/readyz`,
  });
  const watched = new Set<() => void>();
  return {
    watch(camera, limits) {
      const unwatchMetrics = metrics.watch(camera);
      const unwatchHealth = health.watch(camera, limits);
      const unwatch = () => {
        if (!watched.delete(unwatch)) return;
        unwatchMetrics();
        unwatchHealth();
      };
      watched.add(unwatch);
      return unwatch;
    },
    async close() {
      unsubscribe();
      for (const unwatch of [...watched]) unwatch();
      await server.close();
    },
  };
}
