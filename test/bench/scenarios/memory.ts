import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeSegmentPool, newSpoolRoot } from '../backlog.js';
import { IngestProcess } from '../ingest-process.js';
import { memoryMiB } from '../proc-stats.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { QUIET_SOURCE, relayDrain } from './drain.js';

const SECTION = 'Memory, peak RSS';
/** Distinct files behind the big backlog; the rest are hard links to them. */
const POOL_FILES = 32;

/** Peak RSS of a bare `node` that loaded undici, idle relay, and a relay draining a big backlog. */
export async function memoryBenchmark(profile: Profile, log: (line: string) => void): Promise<Row[]> {
  const bare = await bareNodeMiB();
  const ingest = await IngestProcess.start();
  const { peakMiB: idle, cpuPct: idleCpu } = await idleRelay(ingest, profile.idle.seconds);
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
    `memory: bare node ${bare.toFixed(1)} MiB, idle ${idle.toFixed(1)} MiB, draining ${draining.toFixed(1)} MiB`,
  );
  const one = (v: number) => ({ median: v, min: v, max: v, n: 1 });
  const backlogMB = Math.round((segments * segmentBytes) / 1e6);
  return [
    { section: SECTION, figure: 'baseline: bare node with undici loaded', unit: 'MiB', value: one(bare) },
    {
      section: SECTION,
      figure: `relay, idle (${profile.idle.seconds} s, nothing to send)`,
      unit: 'MiB',
      value: one(idle),
      goal: '≤ 80 MiB',
      meets: idle <= 80,
    },
    {
      section: SECTION,
      figure: `relay, draining a ${backlogMB} MB backlog`,
      unit: 'MiB',
      value: one(draining),
      goal: '≤ 80 MiB',
      meets: draining <= 80,
    },
    { section: SECTION, figure: 'relay draining / bare node', unit: '×', value: one(draining / bare) },
    {
      section: 'CPU, live --codec copy',
      figure: 'relay idle (no segment closes), % of one core',
      unit: '%',
      value: one(idleCpu),
    },
  ];
}

/** What any Node HTTP client costs before it does anything. */
async function bareNodeMiB(): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', "await import('undici'); console.log('up'); setInterval(() => {}, 1000);"],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: new URL('../../..', import.meta.url),
    },
  );
  await once(child.stdout!, 'data');
  await sleep(500);
  const peak = memoryMiB(child.pid!)?.hwm ?? Number.NaN;
  child.kill('SIGKILL');
  return peak;
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
