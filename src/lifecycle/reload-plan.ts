import { isDeepStrictEqual } from 'node:util';
import type { FleetConfig } from '../config/fleet-config.js';
import { type CameraConfig, cameraIdOf } from '../config/relay-config.js';

/** What a reload did, camera ids in each list. */
export interface ReloadReport {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly restarted: readonly string[];
  readonly unchanged: readonly string[];
  /** Settings of the process itself that changed but apply only after a restart. */
  readonly needRestart: readonly string[];
}

/** What a reload must do: the report, and the configs of the cameras to start. */
export interface ReloadPlan {
  readonly report: ReloadReport;
  /** Cameras to start that have no unit yet. */
  readonly launch: readonly CameraConfig[];
  /** Cameras whose unit stops (`its config changed`) and starts again with this config. */
  readonly relaunch: readonly CameraConfig[];
}

/** The fleet's cameras as a reload finds them: units running, and starts still waiting. */
export interface FleetState {
  readonly config: FleetConfig;
  readonly running: ReadonlySet<string>;
  /** Cameras restarted by an earlier reload whose new unit waits for the old one to end. */
  readonly starting: ReadonlySet<string>;
}

/**
 * A SIGHUP's new config against the running fleet: cameras gone are removed (a unit stopped, or
 * a start still waiting dropped), new ones added, changed ones restarted, the others untouched.
 */
export function planReload(state: FleetState, next: FleetConfig): ReloadPlan {
  const before = new Map(state.config.cameras.map((c) => [cameraIdOf(c), c]));
  const after = new Map(next.cameras.map((c) => [cameraIdOf(c), c]));
  const removed = [...new Set([...state.running, ...state.starting])].filter((id) => !after.has(id));
  const added: CameraConfig[] = [];
  const restarted: CameraConfig[] = [];
  const unchanged: string[] = [];
  for (const [id, camera] of after) {
    const old = before.get(id);
    if (!state.running.has(id) && !state.starting.has(id)) added.push(camera);
    else if (old && sameCamera(old, camera)) unchanged.push(id);
    else restarted.push(camera);
  }
  return {
    report: {
      added: added.map(cameraIdOf),
      removed,
      restarted: restarted.map(cameraIdOf),
      unchanged,
      needRestart: changedProcessSettings(state.config, next),
    },
    launch: added,
    relaunch: restarted,
  };
}

/** A camera restarts at a reload when any of its own settings changed; the process's are not its. */
function sameCamera(a: CameraConfig, b: CameraConfig): boolean {
  return isDeepStrictEqual(a, b);
}

/** Process settings that changed but only apply at the next start (see Fleet.reload). */
function changedProcessSettings(a: FleetConfig, b: FleetConfig): string[] {
  const [before, after] = [a.process, b.process];
  const changed: string[] = [];
  if (before.upload.order !== after.upload.order) changed.push('upload-order');
  if (before.upload.maxRateBytesPerS !== after.upload.maxRateBytesPerS) changed.push('max-upload-rate');
  // A bound can change at a reload, but not appear or go away.
  if ((before.maxTotalSpoolBytes === undefined) !== (after.maxTotalSpoolBytes === undefined))
    changed.push('max-total-spool-mb');
  if (!isDeepStrictEqual(before.extraCa, after.extraCa)) changed.push('ca-file');
  if (!isDeepStrictEqual(before.proxy, after.proxy)) changed.push('proxy');
  return changed;
}
