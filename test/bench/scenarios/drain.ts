import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TOKEN } from '../../helpers/relay-run.js';
import { newSpoolRoot, plantBacklog, type SegmentPool } from '../backlog.js';
import { IngestProcess } from '../ingest-process.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { spread } from '../stats.js';

export const run = promisify(execFile);
export const BASELINE = fileURLToPath(new URL('../baseline-client.mjs', import.meta.url));
/** Little to encode, so the relay's own ffmpeg barely competes with the drain. */
export const QUIET_SOURCE = ['--resolution', '160x120', '--fps', '1', '--segment-duration', '10'];
const SECTION = 'Backlog drain, loopback';

export interface DrainRun {
  /** MB/s from the first to the last backlog segment's arrival (excluding the first's own transfer). */
  mbps: number;
  peakMiB: number;
}

/** MB/s of arrivals: bytes after the first row over the time from the first to the last. */
export function arrivalRate(rows: readonly { ts: string; size: number }[]): number {
  if (rows.length < 2) return Number.NaN;
  const seconds = (Date.parse(rows.at(-1)!.ts) - Date.parse(rows[0]!.ts)) / 1000;
  const bytes = rows.slice(1).reduce((sum, r) => sum + r.size, 0);
  return bytes / 1e6 / Math.max(seconds, 0.001);
}

/** The relay adopts a dead run's backlog of `count` pool segments and delivers it. */
export async function relayDrain(
  ingest: IngestProcess,
  camera: string,
  pool: SegmentPool,
  count: number,
  concurrency: number,
): Promise<DrainRun> {
  const spoolRoot = newSpoolRoot();
  plantBacklog(spoolRoot, camera, pool, count);
  const relay = new BenchRelay({
    source: 'testsrc',
    cloud: ingest.url,
    spoolRoot,
    cameraId: camera,
    extra: [...QUIET_SOURCE, '--upload-concurrency', String(concurrency)],
  });
  try {
    const backlog = () => ingest.accepted(camera).filter((r) => (r.sequence ?? count) < count);
    const before = ingest.acceptedCount();
    await relay.waitFor(
      () => ingest.acceptedCount() >= before + count && backlog().length >= count,
      600_000,
      'backlog drained',
    );
    const peakMiB = relay.sampler.peakMiB;
    return { mbps: arrivalRate(backlog()), peakMiB };
  } finally {
    await relay.stop();
    rmSync(spoolRoot, { recursive: true, force: true });
    ingest.forget(camera);
  }
}

/** The machine's limit: the minimal undici loop posting the same files to a fresh ingest. */
export async function baselineDrain(
  ingest: IngestProcess,
  camera: string,
  pool: SegmentPool,
  count: number,
  concurrency: number,
): Promise<number> {
  const before = ingest.acceptedCount();
  try {
    const files = Array.from({ length: count }, (_, i) => pool.files[i % pool.files.length]!);
    await run(process.execPath, [BASELINE, ingest.url, TOKEN, camera, String(concurrency), ...files]);
    await ingest.waitAccepted(before + count, 30_000);
    return arrivalRate(ingest.accepted(camera));
  } finally {
    ingest.forget(camera);
  }
}

/** Baseline and relay take turns, run after run, so both see the same background load. */
export async function drainBenchmark(
  profile: Profile,
  pool: SegmentPool,
  log: (s: string) => void,
): Promise<Row[]> {
  const { segments, concurrencies, runs } = profile.drain;
  const rows: Row[] = [];
  const results = new Map(
    concurrencies.map((c) => [
      c,
      { relay: [] as number[], base: [] as number[], ratio: [] as number[], peak: [] as number[] },
    ]),
  );
  // One ingest for all runs (each with its own camera): its start-up is not what is measured.
  const ingest = await IngestProcess.start();
  for (let r = 0; r < runs; r++) {
    for (const c of concurrencies) {
      const base = await baselineDrain(ingest, `bench-baseline-c${c}-r${r}`, pool, segments, c);
      const relay = await relayDrain(ingest, `bench-drain-c${c}-r${r}`, pool, segments, c);
      const res = results.get(c)!;
      res.base.push(base);
      res.relay.push(relay.mbps);
      res.ratio.push((relay.mbps / base) * 100);
      res.peak.push(relay.peakMiB);
      log(
        `drain run ${r + 1}/${runs} c=${c}: relay ${relay.mbps.toFixed(1)} MB/s, baseline ${base.toFixed(1)} MB/s`,
      );
    }
  }
  await ingest.stop();
  rmSync(ingest.outDir, { recursive: true, force: true });
  const size = `${segments} × ${profile.drain.segmentBytes / 1e6} MB`;
  for (const c of concurrencies) {
    const res = results.get(c)!;
    rows.push({
      section: SECTION,
      figure: `baseline undici loop, ${c} at a time (${size})`,
      unit: 'MB/s',
      value: spread(res.base),
    });
    rows.push({
      section: SECTION,
      figure: `relay, --upload-concurrency ${c}`,
      unit: 'MB/s',
      value: spread(res.relay),
    });
    const ratio = spread(res.ratio);
    rows.push({
      section: SECTION,
      figure: `relay / baseline, concurrency ${c}`,
      unit: '%',
      value: ratio,
      ...(c === 1 ? { goal: '≥ 95 %', meets: ratio.median >= 95 } : {}),
    });
  }
  return rows;
}
