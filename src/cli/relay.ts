import type { FleetConfig } from '../config/fleet-config.js';
import { ExitCode, isRelayError } from '../errors.js';
import { Fleet } from '../lifecycle/fleet.js';
import { EventBus } from '../telemetry/events.js';
import { resolveFleet } from './camera-sources.js';
import { exitCodeOf } from './exit-code.js';
import { attachOutput } from './output.js';
import type { ProcessStop } from './process-stop.js';
import { lastWins, type RelaySettings } from './relay-settings.js';
import { onReloadSignal } from './signals.js';
import { readinessLimitsOf, startTelemetry } from './telemetry.js';

/** A stop may take --drain-timeout; past this much more the process exits anyway, spool kept. */
const STOP_SLACK_MS = 800;

export async function runRelayCommand(
  settings: RelaySettings,
  stop: ProcessStop,
  reread: () => Promise<RelaySettings>,
): Promise<number> {
  let fleetConfig: FleetConfig;
  try {
    fleetConfig = await resolveFleet(settings, {
      signal: stop.signal,
      note: lastWins(settings.flags).json ? undefined : printNote,
    });
  } catch (error) {
    // Stopped while asking an ONVIF camera: nothing started, nothing to drain.
    if (stop.signal.aborted) return ExitCode.ok;
    throw error;
  }
  const processSettings = fleetConfig.process;
  const bus = new EventBus();
  const output = attachOutput(bus, {
    json: processSettings.json,
    verbose: processSettings.verbose,
    manyCameras: !fleetConfig.single,
  });
  // Before capture: a metrics port in use is a bad input (exit 2) and nothing has started.
  const telemetry = await startTelemetry(processSettings, bus);
  // Whatever a phase does, the process is gone within --drain-timeout + 1 s of the stop.
  const drainTimeoutMs = Math.max(...fleetConfig.cameras.map((camera) => camera.drainTimeoutMs));
  stop.armDeadline(drainTimeoutMs + STOP_SLACK_MS, ExitCode.ok);
  const removeFlush = stop.onForce(() => output.close());
  let removeReload: (() => void) | undefined;
  try {
    const fleet = await Fleet.start(fleetConfig, {
      bus,
      watch: (tracker, emit, camera) => {
        const removers = [
          output.onTracker(tracker, emit),
          telemetry?.watch(tracker, readinessLimitsOf(camera)),
        ];
        return () => {
          for (const remove of removers) remove?.();
        };
      },
      stop: stop.signal,
      onForce: (callback) => stop.onForce(callback),
    });
    if (settings.configFile !== undefined) {
      removeReload = onReloadSignal(() => reload(fleet, bus, reread, stop.signal));
    }
    return exitCodeOf(await fleet.run());
  } finally {
    removeReload?.();
    removeFlush();
    await telemetry?.close();
    output.close();
  }
}

async function reload(
  fleet: Fleet,
  bus: EventBus,
  reread: () => Promise<RelaySettings>,
  stop: AbortSignal,
): Promise<void> {
  if (stop.aborted) return;
  const emit = bus.forProcess();
  let next: FleetConfig;
  try {
    const settings = await reread();
    // An ONVIF camera of the list is asked again; a stop meanwhile ends the question.
    next = await resolveFleet(settings, { signal: stop });
    if (stop.aborted) return;
  } catch (error) {
    if (stop.aborted) return;
    // A broken file must not take down cameras that run fine: say so, keep going as before.
    const code = isRelayError(error) ? error.code : 'ERR_CONFIG';
    emit({
      type: 'error',
      code,
      message: `reload refused, running as before: ${String((error as Error).message ?? error)}`,
    });
    return;
  }
  const report = fleet.reload(next);
  const list = (ids: readonly string[]) => (ids.length > 0 ? ids.join(', ') : 'none');
  emit({
    type: 'log',
    level: 'info',
    message: `config reloaded: added ${list(report.added)}; removed ${list(report.removed)}; restarted ${list(report.restarted)}; unchanged ${list(report.unchanged)}`,
  });
  if (report.needRestart.length > 0) {
    emit({
      type: 'log',
      level: 'warn',
      message: `${report.needRestart.join(', ')} changed: applied at the next start of the relay, not by a reload`,
    });
  }
}

function printNote(line: string): void {
  process.stderr.write(`${line}
`);
}
