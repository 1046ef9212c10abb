import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Camera, startCamera } from '../../helpers/camera.js';
import { closedOf, writeFleetConfig } from '../../helpers/fleet.js';
import { closedSequences } from '../../helpers/relay-run.js';
import { newSpoolRoot } from '../backlog.js';
import { IngestProcess } from '../ingest-process.js';
import { cpuSeconds } from '../proc-stats.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { spread } from '../stats.js';

const SECTION = 'Scale, one relay process per camera';
const FLEET_SECTION = 'Scale, many cameras in one relay process';
/** The goals for one relay process of 32 cameras (node only, ffmpeg excluded). */
const FLEET_RSS_GOAL_MIB = 128;
const CPU_PER_CAMERA_GOAL = 0.5;
const CAPTURE = ['--codec', 'copy', '--segment-duration', '2'];
/** Lower than the live benchmark's 4 Mbit/s: 32 streams must not saturate a 2-core box. */
const BITRATE_KBPS = 1000;
const START_BATCH = 4;

/**
 * N relays on N mounts of one gst-rtsp-server (one encoder): CPU and RSS per camera, lost
 * segments; then, for N > 1, the same N cameras in one relay process (a `cameras:` list),
 * against the N processes of the same run.
 */
export async function scaleBenchmark(profile: Profile, log: (line: string) => void): Promise<Row[]> {
  const { cameras, seconds } = profile.scale;
  const camera = await startCamera({
    ...{ fps: 10, keyint: 20, width: 320, height: 240 },
    ...{ bitrateKbps: BITRATE_KBPS, pattern: 'snow', mounts: Math.max(...cameras) },
    // 32 encoders would measure the camera, not the relays; a few (the quick profile) are cheap
    // and spare the quick run gst-rtsp-server's abort when two mounts of one media start at once.
    oneMedia: Math.max(...cameras) > 4,
  });
  const ingest = await IngestProcess.start();
  const rows: Row[] = [];
  let cpuAtOne: number | undefined;
  try {
    for (const n of cameras) {
      const spoolRoot = newSpoolRoot();
      const ids = camera.urls.slice(0, n).map((_, i) => `bench-scale-${n}-${i}`);
      const relays: BenchRelay[] = [];
      let cpu: number[];
      let peaks: number[];
      try {
        // A few at a time, as a box boots them: 32 node start-ups at once starve each other's
        // ffmpeg probe on 2 cores, which the relay then takes for a broken ffmpeg.
        for (let i = 0; i < n; i += START_BATCH) {
          const batch = ids.slice(i, i + START_BATCH).map(
            (id, j) =>
              new BenchRelay({
                source: camera.urls[i + j]!,
                cloud: ingest.url,
                spoolRoot,
                cameraId: id,
                extra: CAPTURE,
              }),
          );
          relays.push(...batch);
          await Promise.all(
            batch.map((r) => r.waitFor(() => r.ffmpegPid() !== undefined, 60_000, 'ffmpeg started')),
          );
        }
        await Promise.all(
          relays.map((relay, i) =>
            relay.waitFor(() => ingest.accepted(ids[i]!).length >= 1, 120_000, `camera ${i}: first segment`),
          ),
        );
        const before = relays.map((r) => cpuSeconds(r.cli.pid) ?? 0);
        await sleep(seconds * 1000);
        cpu = relays.map((r, i) => (((cpuSeconds(r.cli.pid) ?? 0) - before[i]!) / seconds) * 100);
        peaks = relays.map((r) => r.sampler.peakMiB);
      } finally {
        await Promise.all(relays.map((r) => r.stop()));
      }
      // Everything a relay's ffmpeg closed must be in the ingest once it stopped cleanly.
      const lost = relays.map((relay, i) => {
        const stored = new Set(ingest.accepted(ids[i]!).map((row) => row.sequence));
        return closedSequences(relay.cli).filter((s) => !stored.has(s)).length;
      });
      const closed = relays.reduce((sum, r) => sum + closedSequences(r.cli).length, 0);
      const lostTotal = lost.reduce((a, b) => a + b, 0);
      log(`scale ${n}: CPU ${spread(cpu).median.toFixed(2)} %/camera, ${closed} closed, ${lostTotal} lost`);
      const cpuSpread = spread(cpu);
      cpuAtOne ??= cpuSpread.median;
      const label = `${n} camera${n === 1 ? '' : 's'}`;
      rows.push(
        {
          section: SECTION,
          figure: `${label}: relay CPU per camera, % of one core`,
          unit: '%',
          value: cpuSpread,
        },
        {
          section: SECTION,
          figure: `${label}: relay CPU per camera / 1 camera`,
          unit: '×',
          value: {
            ...cpuSpread,
            median: cpuSpread.median / cpuAtOne,
            min: cpuSpread.min / cpuAtOne,
            max: cpuSpread.max / cpuAtOne,
          },
        },
        {
          section: SECTION,
          figure: `${label}: relay peak RSS per camera`,
          unit: 'MiB',
          value: spread(peaks),
        },
        {
          section: SECTION,
          figure: `${label}: segments lost per camera (${lostTotal} of ${closed} closed)`,
          unit: '',
          value: spread(lost),
          goal: '= 0',
          meets: lostTotal === 0,
        },
      );
      for (const id of ids) ingest.forget(id);
      rmSync(spoolRoot, { recursive: true, force: true });
      if (n > 1) {
        const separate = { cpuPerCamera: cpuSpread.median, rssSumMiB: peaks.reduce((a, b) => a + b, 0) };
        // A fresh camera process: the N relays just left its shared media, and gst-rtsp-server
        // may answer clients joining a media that is still shutting down with 455 until it is
        // restarted (seen as ffmpeg's "Operation not permitted" for minutes).
        await camera.restart();
        rows.push(...(await oneProcess(n, camera, ingest, seconds, separate, log)));
      }
    }
  } finally {
    await camera.stop();
    await ingest.stop();
    rmSync(ingest.outDir, { recursive: true, force: true });
  }
  return rows;
}

/** N cameras in one relay process: its peak RSS and CPU per camera, against N processes' figures. */
async function oneProcess(
  n: number,
  camera: Camera,
  ingest: IngestProcess,
  seconds: number,
  separate: { cpuPerCamera: number; rssSumMiB: number },
  log: (line: string) => void,
): Promise<Row[]> {
  const spoolRoot = newSpoolRoot();
  const ids = camera.urls.slice(0, n).map((_, i) => `bench-fleet-${n}-${i}`);
  const config = join(spoolRoot, 'cameras.yaml');
  writeFleetConfig(
    config,
    {},
    ids.map((id, i) => ({ id, source: camera.urls[i]! })),
  );
  const relay = new BenchRelay({ config, cloud: ingest.url, spoolRoot, extra: CAPTURE });
  let cpuPerCamera: number;
  let peakMiB: number;
  try {
    await relay.waitFor(
      () => ids.every((id) => closedOf(relay.cli, id).length >= 1),
      120_000,
      'every camera: first segment closed',
    );
    await relay.waitFor(
      () => ids.every((id) => ingest.accepted(id).length >= 1),
      120_000,
      'every camera: first segment stored',
    );
    const before = cpuSeconds(relay.cli.pid) ?? 0;
    await sleep(seconds * 1000);
    cpuPerCamera = (((cpuSeconds(relay.cli.pid) ?? 0) - before) / seconds / n) * 100;
    peakMiB = relay.sampler.peakMiB;
  } finally {
    await relay.stop();
  }
  const lost = ids.map((id) => {
    const stored = new Set(ingest.accepted(id).map((row) => row.sequence));
    return closedOf(relay.cli, id).filter((s) => !stored.has(s)).length;
  });
  const closed = ids.reduce((sum, id) => sum + closedOf(relay.cli, id).length, 0);
  const lostTotal = lost.reduce((a, b) => a + b, 0);
  for (const id of ids) ingest.forget(id);
  rmSync(spoolRoot, { recursive: true, force: true });
  log(
    `scale ${n} in one process: ${peakMiB.toFixed(1)} MiB, CPU ${cpuPerCamera.toFixed(2)} %/camera, ${closed} closed, ${lostTotal} lost`,
  );
  const one = (value: number) => spread([value]);
  return [
    {
      section: FLEET_SECTION,
      figure: `${n} cameras, one process: relay peak RSS (node only)`,
      unit: 'MiB',
      value: one(peakMiB),
      goal: `≤ ${FLEET_RSS_GOAL_MIB} MiB`,
      meets: peakMiB <= FLEET_RSS_GOAL_MIB,
    },
    {
      section: FLEET_SECTION,
      figure: `${n} cameras, ${n} processes: relay peak RSS, summed (node only)`,
      unit: 'MiB',
      value: one(separate.rssSumMiB),
    },
    {
      section: FLEET_SECTION,
      figure: `${n} cameras: RSS of one process / ${n} processes`,
      unit: '×',
      value: one(peakMiB / separate.rssSumMiB),
    },
    {
      section: FLEET_SECTION,
      figure: `${n} cameras, one process: relay CPU per camera, % of one core`,
      unit: '%',
      value: one(cpuPerCamera),
      goal: `≤ ${CPU_PER_CAMERA_GOAL} %`,
      meets: cpuPerCamera <= CPU_PER_CAMERA_GOAL,
    },
    {
      section: FLEET_SECTION,
      figure: `${n} cameras: CPU per camera, one process / ${n} processes`,
      unit: '×',
      value: one(cpuPerCamera / separate.cpuPerCamera),
    },
    {
      section: FLEET_SECTION,
      figure: `${n} cameras, one process: segments lost per camera (${lostTotal} of ${closed} closed)`,
      unit: '',
      value: spread(lost),
      goal: '= 0',
      meets: lostTotal === 0,
    },
  ];
}
