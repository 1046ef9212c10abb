import { describe, expect, it } from 'vitest';
import { type CameraEntry, type FleetConfig, resolveFleetConfig } from '../../src/config/fleet-config.js';
import type { RelayFlags } from '../../src/config/relay-config.js';
import { planReload } from '../../src/lifecycle/reload-plan.js';
import { tempDir } from '../helpers/temp-dir.js';

const spoolDir = tempDir('reload-plan-');
const shared: RelayFlags = { token: 'tok-123', spoolDir, cloud: 'http://127.0.0.1:9' };

const fleet = (cameras: CameraEntry[], flags: RelayFlags = {}): FleetConfig =>
  resolveFleetConfig({ ...shared, ...flags }, cameras, {});

const ids = (configs: readonly { cameraId: string | undefined }[]) => configs.map((c) => c.cameraId);

describe('planReload', () => {
  const before = fleet([
    { id: 'a', source: 'testsrc' },
    { id: 'b', source: 'testsrc', fps: 2 },
    { id: 'c', source: 'testsrc' },
  ]);
  const running = new Set(['a', 'b', 'c']);

  it('adds, removes, restarts what changed and leaves the rest alone', () => {
    const next = fleet([
      { id: 'a', source: 'testsrc' },
      { id: 'b', source: 'testsrc', fps: 5 },
      { id: 'd', source: 'testsrc' },
    ]);
    const plan = planReload({ config: before, running, starting: new Set() }, next);
    expect(plan.report).toEqual({
      added: ['d'],
      removed: ['c'],
      restarted: ['b'],
      unchanged: ['a'],
      needRestart: [],
    });
    expect([ids(plan.launch), ids(plan.relaunch)]).toEqual([['d'], ['b']]);
    expect(plan.relaunch[0]!.fps).toBe(5);
  });

  it('a start still waiting for its old unit is dropped when the camera goes, and not started twice', () => {
    const next = fleet([{ id: 'a', source: 'testsrc' }]);
    const plan = planReload(
      { config: before, running: new Set(['a', 'b']), starting: new Set(['b', 'c']) },
      next,
    );
    expect(plan.report.removed).toEqual(['b', 'c']);
    expect(plan.launch).toEqual([]);
  });

  it('process settings that only apply at a restart are named, and restart no camera', () => {
    const next = fleet(
      [
        { id: 'a', source: 'testsrc' },
        { id: 'b', source: 'testsrc', fps: 2 },
        { id: 'c', source: 'testsrc' },
      ],
      { uploadOrder: 'live-first', maxUploadRate: '1MB/s', maxTotalSpoolMb: 100, uploadConcurrency: 7 },
    );
    const plan = planReload({ config: before, running, starting: new Set() }, next);
    expect(plan.report.needRestart).toEqual(['upload-order', 'max-upload-rate', 'max-total-spool-mb']);
    expect(plan.report.unchanged).toEqual(['a', 'b', 'c']);
  });
});
