import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Camera, startCamera } from '../../helpers/camera.js';
import { SHEBANG_NODE_FLAGS } from '../../helpers/cli.js';
import { TOKEN } from '../../helpers/relay-run.js';
import { newSpoolRoot } from '../backlog.js';
import { floorMiB, overFloor } from '../floor.js';
import { IngestProcess } from '../ingest-process.js';
import { cpuSeconds, ProcessSampler } from '../proc-stats.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { percentiles, spread } from '../stats.js';
import { BASELINE, run } from './drain.js';

const CAMERA = 'bench-live';
const BARE = fileURLToPath(new URL('../bare-relay.mjs', import.meta.url));
/** Segments the latency baseline re-posts: enough for a median. */
const BASELINE_POSTS = 20;

/**
 * A live camera at 2 s segments with `--codec copy` at ~4 Mbit/s: latency from each segment's
 * close to its 2xx, the relay's CPU per window (its ffmpeg's beside it) and its peak RSS.
 */
export async function liveBenchmark(profile: Profile, log: (line: string) => void): Promise<Row[]> {
  const { seconds, windowS, bitrateKbps } = profile.live;
  const floor = await floorMiB();
  const camera = await startCamera({
    fps: 10,
    keyint: 20,
    width: 320,
    height: 240,
    bitrateKbps,
    pattern: 'snow',
  });
  const ingest = await IngestProcess.start();
  const spoolRoot = newSpoolRoot();
  const relay = new BenchRelay({
    source: camera.url,
    cloud: ingest.url,
    spoolRoot,
    cameraId: CAMERA,
    extra: ['--codec', 'copy', '--segment-duration', '2'],
  });
  const relayCpu: number[] = [];
  const ffmpegCpu: number[] = [];
  let peakMiB: number;
  try {
    await relay.waitFor(() => ingest.acceptedCount() >= 1, 60_000, 'the first live segment');
    // Windows start after the first delivery: start-up is not steady state.
    for (let elapsed = 0; elapsed + windowS <= seconds; elapsed += windowS) {
      const ffmpeg = relay.ffmpegPid();
      const r0 = cpuSeconds(relay.cli.pid) ?? 0;
      const f0 = ffmpeg === undefined ? undefined : cpuSeconds(ffmpeg);
      await sleep(windowS * 1000);
      const r1 = cpuSeconds(relay.cli.pid) ?? 0;
      const f1 = ffmpeg === undefined ? undefined : cpuSeconds(ffmpeg);
      relayCpu.push(((r1 - r0) / windowS) * 100);
      if (f0 !== undefined && f1 !== undefined && f1 >= f0) ffmpegCpu.push(((f1 - f0) / windowS) * 100);
    }
    peakMiB = relay.sampler.peakMiB;
  } finally {
    await relay.stop();
  }
  let bare: BareRun;
  try {
    bare = await bareRelay(camera, ingest, seconds / 2, windowS);
  } finally {
    await camera.stop();
  }
  const closed = relay.closedAt();
  const rows = ingest.accepted(CAMERA);
  const latencies = rows
    .filter((r) => r.sequence !== null && closed.has(r.sequence))
    .map((r) => Date.parse(r.ts) - closed.get(r.sequence!)!);
  const streamMbps = (rows.reduce((sum, r) => sum + r.size, 0) * 8) / 1e6 / (rows.length * 2);
  log(
    `live: bare ffmpeg + undici loop: node CPU ${bare.nodeCpu.map((c) => c.toFixed(2)).join(' ')} %, peak ${bare.peakMiB.toFixed(1)} MiB`,
  );
  log(
    `live: ${latencies.length} segments, ${streamMbps.toFixed(2)} Mbit/s, relay CPU ${relayCpu.map((c) => c.toFixed(2)).join(' ')} %`,
  );

  // Baseline: the bare POST of the same segment files, one at a time, to the same ingest.
  const dir = join(ingest.outDir, CAMERA);
  const files = readdirSync(dir)
    .filter((n) => n.endsWith('.ts'))
    .slice(0, BASELINE_POSTS)
    .map((n) => join(dir, n));
  const { stdout } = await run(process.execPath, [
    BASELINE,
    ingest.url,
    TOKEN,
    'bench-live-baseline',
    '1',
    ...files,
  ]);
  const posts = JSON.parse(stdout) as number[];
  await ingest.stop();
  rmSync(ingest.outDir, { recursive: true, force: true });
  rmSync(spoolRoot, { recursive: true, force: true });

  const [p50, p95, p99] = percentiles(latencies, [0.5, 0.95, 0.99]) as [number, number, number];
  const post = spread(posts);
  const n = latencies.length;
  const one = (v: number) => ({ median: v, min: v, max: v, n });
  const L = 'Latency, live 2 s segments';
  const C = 'CPU, live --codec copy';
  const relayCpuSpread = spread(relayCpu);
  const ffmpegCpuSpread = spread(ffmpegCpu);
  const overFfmpeg = spread(
    relayCpu.map((c, i) => (c / (ffmpegCpu[i] ?? Number.NaN)) * 100).filter(Number.isFinite),
  );
  const peak = overFloor(peakMiB, floor, 1.1);
  const overBare = relayCpuSpread.median / spread(bare.nodeCpu).median;
  return [
    { section: L, figure: `camera stream (${n} segments)`, unit: 'Mbit/s', value: one(streamMbps) },
    { section: L, figure: 'segment closed → ingest 2xx, p50', unit: 'ms', value: one(p50) },
    { section: L, figure: 'segment closed → ingest 2xx, p95', unit: 'ms', value: one(p95) },
    {
      section: L,
      figure: 'segment closed → ingest 2xx, p99',
      unit: 'ms',
      value: one(p99),
      goal: '≤ 50 ms',
      meets: p99 <= 50,
    },
    { section: L, figure: 'baseline: bare POST of the same files', unit: 'ms', value: post },
    { section: L, figure: 'relay p50 / baseline POST median', unit: '×', value: one(p50 / post.median) },
    {
      section: C,
      figure: `relay, % of one core (${windowS} s windows)`,
      unit: '%',
      value: relayCpuSpread,
      goal: '≤ 0.5 %',
      meets: relayCpuSpread.median <= 0.5,
    },
    { section: C, figure: 'relay, CPU s per camera-hour', unit: 's', value: scaled(relayCpuSpread, 36) },
    { section: C, figure: 'baseline: its ffmpeg (copy), % of one core', unit: '%', value: ffmpegCpuSpread },
    {
      section: C,
      figure: 'relay / its ffmpeg',
      unit: '%',
      value: overFfmpeg,
      goal: '≤ 50 %',
      meets: overFfmpeg.median <= 50,
    },
    {
      section: C,
      figure: 'bare ffmpeg -c copy -f segment + undici loop: its node, % of one core',
      unit: '%',
      value: spread(bare.nodeCpu),
    },
    // A quick run's short window may see no CPU tick of the bare node: no ratio then.
    ...(Number.isFinite(overBare)
      ? [
          {
            section: C,
            figure: 'relay over the bare relay (CPU, node only)',
            unit: '×',
            value: one(overBare),
          },
        ]
      : []),
    {
      section: 'Memory, peak RSS',
      figure: `bare ffmpeg + undici loop, live camera (${seconds / 2} s): its node`,
      unit: 'MiB',
      value: one(bare.peakMiB),
    },
    {
      section: 'Memory, peak RSS',
      figure: 'relay over the bare relay (peak RSS)',
      unit: '×',
      value: one(peakMiB / bare.peakMiB),
    },
    {
      section: 'Memory, peak RSS',
      figure: `relay, live camera (${seconds} s)`,
      unit: 'MiB',
      value: one(peakMiB),
    },
    {
      section: 'Memory, peak RSS',
      figure: 'relay live / floor',
      unit: '×',
      value: one(peak.ratio),
      goal: peak.goal,
      meets: peak.meets,
    },
  ];
}

/** % of a core → CPU seconds per hour is × 36. */
function scaled(s: ReturnType<typeof spread>, by: number) {
  return { median: s.median * by, min: s.min * by, max: s.max * by, n: s.n };
}

interface BareRun {
  readonly nodeCpu: number[];
  readonly peakMiB: number;
}

/** The same camera through test/bench/bare-relay.mjs (ffmpeg's segmenter and a bare POST loop). */
async function bareRelay(
  camera: Camera,
  ingest: IngestProcess,
  seconds: number,
  windowS: number,
): Promise<BareRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bare-'));
  const camera_ = 'bench-live-bare';
  const child = spawn(
    process.execPath,
    [...SHEBANG_NODE_FLAGS, BARE, camera.url, ingest.url, TOKEN, camera_, dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const sampler = new ProcessSampler(child.pid!);
  const nodeCpu: number[] = [];
  try {
    await once(child.stdout!, 'data');
    const before = ingest.acceptedCount();
    await ingest.waitAccepted(before + 1, 60_000);
    for (let elapsed = 0; elapsed + windowS <= seconds; elapsed += windowS) {
      const c0 = cpuSeconds(child.pid!) ?? 0;
      await sleep(windowS * 1000);
      nodeCpu.push((((cpuSeconds(child.pid!) ?? 0) - c0) / windowS) * 100);
    }
    return { nodeCpu, peakMiB: sampler.peakMiB };
  } finally {
    sampler.stop();
    child.kill('SIGTERM');
    await once(child, 'exit');
    ingest.forget(camera_);
    rmSync(dir, { recursive: true, force: true });
  }
}
