import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCamera } from '../../helpers/camera.js';
import { newSpoolRoot } from '../backlog.js';
import { IngestProcess } from '../ingest-process.js';
import { memoryMiB } from '../proc-stats.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { percentiles } from '../stats.js';

const SECTION = 'Soak, one live camera with an ingest outage every few minutes';
const CAMERA = 'bench-soak';
const SAMPLE_MS = 5000;

export interface SoakOptions {
  readonly minutes: number;
}

/**
 * `--only soak [--soak-minutes N]`: a live camera for N minutes (60 by default) while the
 * ingest goes down every few minutes and comes back on the same port. Reports the RSS slope
 * after warm-up (a leak shows as MiB per hour), the ffmpeg processes alive at the end (exactly
 * one per camera) and close→ack p99 over the whole run, faults included.
 */
export async function soakBenchmark(options: SoakOptions, log: (line: string) => void): Promise<Row[]> {
  const totalMs = options.minutes * 60_000;
  // Every 3 min a 20 s outage; shorter runs scale both down so a few faults still happen.
  const faultEveryMs = Math.min(180_000, totalMs / 4);
  const faultMs = Math.min(20_000, faultEveryMs / 4);
  const camera = await startCamera({
    ...{ fps: 10, keyint: 20, width: 320, height: 240 },
    ...{ bitrateKbps: 2000, pattern: 'snow' },
  });
  let ingest = await IngestProcess.start();
  const { port, outDir } = ingest;
  const spoolRoot = newSpoolRoot();
  const relay = new BenchRelay({
    source: camera.url,
    cloud: ingest.url,
    spoolRoot,
    cameraId: CAMERA,
    extra: ['--codec', 'copy', '--segment-duration', '2'],
  });
  const samples: Array<{ s: number; rss: number }> = [];
  const began = Date.now();
  let faults = 0;
  let ffmpegAlive: number;
  try {
    await relay.waitFor(() => ingest.acceptedCount() >= 1, 60_000, 'the first live segment');
    let nextFault = Date.now() + faultEveryMs;
    while (Date.now() - began < totalMs) {
      const rss = memoryMiB(relay.cli.pid)?.rss;
      if (rss !== undefined) samples.push({ s: (Date.now() - began) / 1000, rss });
      if (Date.now() >= nextFault && Date.now() - began + faultMs < totalMs) {
        await ingest.stop();
        await sleep(faultMs);
        ingest = await IngestProcess.start({ port, outDir });
        faults++;
        nextFault = Date.now() + faultEveryMs;
        log(
          `soak: outage ${faults} over at ${((Date.now() - began) / 1000).toFixed(0)} s, RSS ${rss?.toFixed(1)} MiB`,
        );
      }
      await sleep(SAMPLE_MS);
    }
    ffmpegAlive = childrenNamed(relay.cli.pid, 'ffmpeg');
  } finally {
    await relay.stop();
    await camera.stop();
  }
  const closed = relay.closedAt();
  const latencies = ingest
    .accepted(CAMERA)
    .filter((r) => r.sequence !== null && closed.has(r.sequence))
    .map((r) => Date.parse(r.ts) - closed.get(r.sequence!)!);
  await ingest.stop();
  rmSync(outDir, { recursive: true, force: true });
  rmSync(spoolRoot, { recursive: true, force: true });

  // Warm-up: the first fifth (at least a minute when the run allows): start-up, V8's first
  // memory-reducing GCs and the first outage's backlog are not a leak.
  const warmS = Math.min(60, (totalMs / 1000) * 0.2);
  const steady = samples.filter((x) => x.s >= Math.max(warmS, (totalMs / 1000) * 0.2));
  const slope = slopePerHour(steady);
  const [p99] = percentiles(latencies, [0.99]) as [number];
  const one = (v: number, n = 1) => ({ median: v, min: v, max: v, n });
  log(
    `soak: ${options.minutes} min, ${faults} outages, RSS slope ${slope.toFixed(2)} MiB/h, ffmpeg alive ${ffmpegAlive}, close→ack p99 ${p99.toFixed(0)} ms`,
  );
  return [
    {
      section: SECTION,
      figure: `run length (${faults} outages of ${faultMs / 1000} s)`,
      unit: 'min',
      value: one(options.minutes),
    },
    {
      section: SECTION,
      figure: 'RSS slope after warm-up',
      unit: 'MiB/h',
      value: one(slope, steady.length),
      goal: '≤ 1 MiB/h',
      meets: slope <= 1,
    },
    {
      section: SECTION,
      figure: 'ffmpeg processes alive at the end, per camera',
      unit: '',
      value: one(ffmpegAlive),
      goal: '= 1',
      meets: ffmpegAlive === 1,
    },
    {
      section: SECTION,
      figure: 'segment closed → ingest 2xx, p99 (outages included)',
      unit: 'ms',
      value: one(p99, latencies.length),
    },
  ];
}

/** Least-squares slope of RSS over time, in MiB per hour. */
function slopePerHour(points: readonly { s: number; rss: number }[]): number {
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.s, 0) / n;
  const my = points.reduce((a, p) => a + p.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.s - mx) * (p.rss - my);
    den += (p.s - mx) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 3600;
}

/** Live child processes of `pid` whose command is `name`. */
function childrenNamed(pid: number, name: string): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is the state (Z: a zombie is not alive), fields[1] the parent's PID.
      if (comm === name && Number(fields[1]) === pid && fields[0] !== 'Z') count++;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return count;
}
