import { singleCameraFleet } from '../config/fleet-config.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { Emit, EventBus } from '../telemetry/events.js';
import type { StatusTracker } from '../telemetry/status-tracker.js';
import { Fleet } from './fleet.js';
import type { FleetReport } from './outcome.js';

export interface RelayHooks {
  readonly bus: EventBus;
  /** Called with the tracker once the camera is known (status line, progress events). */
  readonly onTracker?: (tracker: StatusTracker, emit: Emit) => void;
  /** Aborted to stop gracefully: a signal, or the demo's timer. Watched from the first line on. */
  readonly stop: AbortSignal;
  /** Registers a last-moment callback for a forced exit (a second signal); returns its remover. */
  readonly onForce?: (callback: (why: string) => void) => () => void;
}

/** One camera, start to exit (the demo's relay): a fleet of one. Resolves with its report. */
export async function runRelay(config: RelayConfig, hooks: RelayHooks): Promise<FleetReport> {
  const fleet = await Fleet.start(singleCameraFleet(config), {
    bus: hooks.bus,
    stop: hooks.stop,
    onForce: hooks.onForce,
    watch: (tracker, emit) => {
      hooks.onTracker?.(tracker, emit);
      return () => undefined;
    },
  });
  return fleet.run();
}
