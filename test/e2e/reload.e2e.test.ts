import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { startCli } from '../helpers/cli.js';
import { expectCameraDelivered } from '../helpers/delivery.js';
import { allArrived, runsOf, writeFleetConfig } from '../helpers/fleet.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, type RelayEvent, TOKEN } from '../helpers/relay-run.js';

cleanUpAfterAll();

const DRAIN_TIMEOUT_S = 3;

describe('SIGHUP reloads the cameras: list', () => {
  it('starts the added camera, drains the removed one, restarts the changed one, leaves the rest alone', async () => {
    // cam-keep has a camera of its own: when another client PLAYs a mount of a shared
    // gst-rtsp-server, the clients already playing see its timestamps step back, which ffmpeg's
    // copy-mode segmenter sits out until the stall timeout restarts it. The others share one.
    const camera = await startCamera();
    const shared3 = await startCamera({ mounts: 3 });
    const ingest = await startTestIngest();
    const spool = newSpoolDir();
    const file = join(spool, 'cameras.yaml');
    const settings = {
      cloud: ingest.url,
      'spool-dir': spool,
      'segment-duration': 1,
      codec: 'copy',
      'upload-timeout': '2s',
      'retry-base': '100ms',
      'retry-max': '400ms',
      'drain-timeout': `${DRAIN_TIMEOUT_S}s`,
    };
    const keepUrl = camera.url;
    const [goneUrl, changeUrl, newUrl] = shared3.urls;
    // Three cameras, so that one can stay, one go and one change (plus one added).
    writeFleetConfig(file, settings, [
      { id: 'cam-keep', source: keepUrl! },
      { id: 'cam-gone', source: goneUrl! },
      { id: 'cam-change', source: changeUrl! },
    ]);
    const since = Date.now();
    const relay = startCli(['--config', file, '--token', TOKEN, '--json']);
    const events = () => relay.events() as RelayEvent[];
    const stateOf = (id: string, state: string) =>
      events().filter((e) => e.camera === id && e.type === 'state' && e.state === state);
    try {
      const first = ['cam-keep', 'cam-gone', 'cam-change'];
      await ingest.waitFor(() => first.every((id) => ingest.accepted(id).length >= 2), 30_000);
      const keepRun = runsOf(ingest, 'cam-keep');
      const changeRun = runsOf(ingest, 'cam-change');
      const keepStarts = stateOf('cam-keep', 'starting').length;

      writeFleetConfig(file, settings, [
        { id: 'cam-keep', source: keepUrl! },
        { id: 'cam-change', source: changeUrl!, 'segment-duration': 2 },
        { id: 'cam-new', source: newUrl! },
      ]);
      relay.kill('SIGHUP');
      await relay.waitForOutput(
        /config reloaded: added cam-new; removed cam-gone; restarted cam-change; unchanged cam-keep/,
        10_000,
        'stderr',
      );

      // The removed camera drains: everything it closed arrived, then it stopped, then silence.
      await relay.waitFor(() => stateOf('cam-gone', 'stopped').length > 0, 10_000, 'cam-gone stopped');
      expect(allArrived(ingest, relay, 'cam-gone')).toBe(true);
      expect(stateOf('cam-gone', 'stopped')[0]!.detail).toBe('all segments delivered');
      const goneCount = ingest.accepted('cam-gone').length;

      // The added camera relays; the changed one is a new run with 2 s segments.
      await ingest.waitFor(() => ingest.accepted('cam-new').length >= 2, 30_000);
      await ingest.waitFor(() => runsOf(ingest, 'cam-change').length === 2, 30_000);
      const newRun = runsOf(ingest, 'cam-change')[1]!;
      await ingest.waitFor(
        () =>
          ingest.accepted('cam-change').filter((r) => r.idempotency_key?.includes(`:${newRun}:`)).length >= 2,
        30_000,
      );
      const after = ingest.accepted('cam-change').filter((r) => r.idempotency_key?.includes(`:${newRun}:`));
      for (const row of after) expect(row.duration, JSON.stringify(row)).toBeGreaterThan(1.5);
      expect(runsOf(ingest, 'cam-change')[0]).toBe(changeRun[0]);

      // The unchanged camera kept its run: no restart, one run part in every key.
      expect(runsOf(ingest, 'cam-keep')).toEqual(keepRun);
      expect(stateOf('cam-keep', 'starting')).toHaveLength(keepStarts);
      expect(ingest.accepted('cam-gone')).toHaveLength(goneCount);

      // A broken file is refused with one error line; every camera goes on.
      writeFileSync(file, 'cameras: [ { id: cam-keep, source: \n');
      const counts = () => ['cam-keep', 'cam-change', 'cam-new'].map((id) => ingest.accepted(id).length);
      const before = counts();
      relay.kill('SIGHUP');
      await relay.waitForOutput(/reload refused, running as before/, 10_000, 'stderr');
      await ingest.waitFor(() => counts().every((n, i) => n >= before[i]! + 2), 30_000);
      expect(relay.stderr().match(/reload refused/g)).toHaveLength(1);
      expect(relay.stderr().match(/config reloaded/g)).toHaveLength(1);
      expect(runsOf(ingest, 'cam-keep')).toEqual(keepRun);

      // SIGTERM: every camera drains within the one budget, exit 0. A drain cut by the deadline
      // ends 'stopped' with "N segment(s) left in …"; a stop past the budget is forced out with
      // "the stop overran its budget" before the camera says it stopped. So: each running camera
      // ends its last run 'stopped' with everything delivered, and nothing overran.
      const running = ['cam-keep', 'cam-change', 'cam-new'];
      const stoppedBefore = running.map((id) => stateOf(id, 'stopped').length);
      relay.kill('SIGTERM');
      const exit = await relay.exited;
      expect(exit.code).toBe(0);
      expect(relay.stderr()).not.toMatch(/overran its budget/);
      running.forEach((id, i) => {
        const stops = stateOf(id, 'stopped');
        expect(stops, id).toHaveLength(stoppedBefore[i]! + 1);
        expect(stops.at(-1)!.detail, id).toBe('all segments delivered');
      });
      for (const id of ['cam-keep', 'cam-change', 'cam-new', 'cam-gone'])
        expect(allArrived(ingest, relay, id), id).toBe(true);
      expect(ingest.accepted('cam-gone')).toHaveLength(goneCount);
      // cam-gone, cam-change's first run, then the three that ran to the end.
      expect(ingest.stats().sessionEnds).toBe(5);
      // From outside, for the camera that ran throughout: every second it streamed arrived, in
      // one ffmpeg run (the reload did not touch it).
      const [run] = (await expectCameraDelivered({ ingest, cameraId: 'cam-keep', camera, spool, since }))
        .runs;
      expect(run!.ffmpegRuns).toBe(1);
    } finally {
      relay.kill('SIGKILL');
      await ingest.close();
    }
  });
});
