import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../helpers/ports.js';
import { makeSegmentPool, newSpoolRoot } from '../backlog.js';
import { FLOOR_LIBRARIES, floorMiB, overFloor } from '../floor.js';
import { IngestProcess } from '../ingest-process.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { QUIET_SOURCE, relayDrain } from './drain.js';

const SECTION = 'Memory, peak RSS';
/** Distinct files behind the big backlog; the rest are hard links to them. */
const POOL_FILES = 32;

/**
 * Peak RSS of the floor (node, the shim's flags, the run-time libraries), of an idle relay and
 * of one draining a big backlog, each also as a ratio to the floor; and the relay's CPU while
 * idle and while its camera cannot be reached.
 */
export async function memoryBenchmark(profile: Profile, log: (line: string) => void): Promise<Row[]> {
  const floor = await floorMiB();
  const ingest = await IngestProcess.start();
  const { peakMiB: idle, cpuPct: idleCpu } = await idleRelay(ingest, profile.idle.seconds);
  const unreachableCpu = await unreachableRelay(ingest, profile.unreachable);
  const { segments, segmentBytes } = profile.memoryDrain;
  const pool = makeSegmentPool(Math.min(POOL_FILES, segments), segmentBytes);
  let draining: number;
  try {
    draining = (await relayDrain(ingest, 'bench-memory-drain', pool, segments, 1)).peakMiB;
  } finally {
    rmSync(pool.dir, { recursive: true, force: true });
    await ingest.stop();
    rmSync(ingest.outDir, { recursive: true, force: true });
  }
  log(
    `memory: floor ${floor.toFixed(1)} MiB, idle ${idle.toFixed(1)} MiB, draining ${draining.toFixed(1)} MiB; CPU idle ${idleCpu.toFixed(3)} %, camera unreachable ${unreachableCpu.toFixed(3)} %`,
  );
  const one = (v: number) => ({ median: v, min: v, max: v, n: 1 });
  const backlogMB = Math.round((segments * segmentBytes) / 1e6);
  const idleRatio = overFloor(idle, floor, 1.05);
  const drainRatio = overFloor(draining, floor, 1.15);
  return [
    {
      section: SECTION,
      figure: `the floor: node + ${FLOOR_LIBRARIES.join(', ')} imported, the shim's V8 flags`,
      unit: 'MiB',
      value: one(floor),
    },
    {
      section: SECTION,
      figure: `relay, idle (${profile.idle.seconds} s, nothing to send)`,
      unit: 'MiB',
      value: one(idle),
    },
    {
      section: SECTION,
      figure: 'relay idle / floor',
      unit: '×',
      value: one(idleRatio.ratio),
      goal: idleRatio.goal,
      meets: idleRatio.meets,
    },
    {
      section: SECTION,
      figure: `relay, draining a ${backlogMB} MB backlog`,
      unit: 'MiB',
      value: one(draining),
    },
    {
      section: SECTION,
      figure: 'relay draining / floor',
      unit: '×',
      value: one(drainRatio.ratio),
      goal: drainRatio.goal,
      meets: drainRatio.meets,
    },
    {
      section: 'CPU, live --codec copy',
      figure: 'relay idle (no segment closes), % of one core',
      unit: '%',
      value: one(idleCpu),
    },
    {
      section: 'CPU, live --codec copy',
      figure: `relay, camera unreachable (${profile.unreachable.seconds} s after ${profile.unreachable.warmupS} s), % of one core`,
      unit: '%',
      value: one(unreachableCpu),
      goal: '≤ 0.05 %',
      // Compared at the precision shown: 0.05 measured is the goal met, not a float's last bit over.
      meets: Number(unreachableCpu.toFixed(3)) <= 0.05,
    },
  ];
}

/** CPU (% of a core) of a relay whose camera refuses connections, after its first retries. */
async function unreachableRelay(
  ingest: IngestProcess,
  { warmupS, seconds }: Profile['unreachable'],
): Promise<number> {
  // Free a moment ago and nothing listens on it: every connect is refused, as a camera that is off.
  const port = await freePort();
  const spoolRoot = newSpoolRoot();
  const relay = new BenchRelay({
    source: `rtsp://127.0.0.1:${port}/nothing`,
    cloud: ingest.url,
    spoolRoot,
    cameraId: 'bench-unreachable',
  });
  try {
    await relay.waitFor(
      () => relay.events().some((e) => e.type === 'state' && e.state === 'reconnecting'),
      30_000,
      'the relay noticed its camera is unreachable',
    );
    await sleep(warmupS * 1000);
    const cpu0 = relay.sampler.cpuS;
    await sleep(seconds * 1000);
    return ((relay.sampler.cpuS - cpu0) / seconds) * 100;
  } finally {
    await relay.stop();
    rmSync(spoolRoot, { recursive: true, force: true });
  }
}

/** A relay whose segments are longer than the watch: registered, ffmpeg running, no upload. */
async function idleRelay(
  ingest: IngestProcess,
  seconds: number,
): Promise<{ peakMiB: number; cpuPct: number }> {
  const spoolRoot = newSpoolRoot();
  const relay = new BenchRelay({
    source: 'testsrc',
    cloud: ingest.url,
    spoolRoot,
    cameraId: 'bench-idle',
    extra: [...QUIET_SOURCE.slice(0, 4), '--segment-duration', '600'],
  });
  try {
    await relay.waitFor(() => relay.ffmpegPid() !== undefined, 30_000, 'ffmpeg started');
    const cpu0 = relay.sampler.cpuS;
    await sleep(seconds * 1000);
    return { peakMiB: relay.sampler.peakMiB, cpuPct: ((relay.sampler.cpuS - cpu0) / seconds) * 100 };
  } finally {
    await relay.stop();
    rmSync(spoolRoot, { recursive: true, force: true });
  }
}
