import { cameraIdOf, type RelayConfig } from '../config/relay-config.js';
import { ConfigError } from '../errors.js';
import type { EventBus } from '../telemetry/events.js';
import { RelayHealth } from '../telemetry/health.js';
import { RelayMetrics, type WatchedCamera } from '../telemetry/metrics.js';
import { SPOOL_NEAR_RATIO } from '../telemetry/readiness.js';
import { TelemetryServer } from '../telemetry/telemetry-server.js';

export interface Telemetry {
  /** Metrics gauges and readiness follow this camera from now on. */
  watch(camera: WatchedCamera): void;
  close(): Promise<void>;
}

/**
 * --metrics-port: metrics as a bus listener, readiness from the cameras' snapshots, and the
 * endpoint serving both. Started before capture; a port that cannot be bound is a ConfigError.
 */
export async function startTelemetry(config: RelayConfig, bus: EventBus): Promise<Telemetry | undefined> {
  if (config.metricsPort === undefined) return undefined;
  const metrics = new RelayMetrics();
  const health = new RelayHealth();
  let server: TelemetryServer;
  try {
    server = await TelemetryServer.start({
      host: config.metricsHost,
      port: config.metricsPort,
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }),
      readiness: () => health.readiness(),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE' ? 'the port is already in use' : `cannot listen (${code ?? String(error)})`;
    throw new ConfigError(`--metrics-port ${config.metricsPort} on ${config.metricsHost}: ${why}`, {
      cause: error,
    });
  }
  const unsubscribe = bus.on(metrics.listener);
  bus.forCamera(cameraIdOf(config))({
    type: 'log',
    level: 'info',
    message: `metrics on ${server.url}/metrics, health on ${server.url}/healthz and ${server.url}/readyz`,
  });
  const removers: Array<() => void> = [];
  return {
    watch(camera) {
      removers.push(
        metrics.watch(camera),
        health.watch(camera, {
          cameraDownAfterS: config.stallTimeoutMs / 1000,
          maxBacklogS: config.readyMaxBacklogMs / 1000,
          spoolNearRatio: SPOOL_NEAR_RATIO,
        }),
      );
    },
    async close() {
      unsubscribe();
      for (const remove of removers) remove();
      await server.close();
    },
  };
}
