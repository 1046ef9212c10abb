import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeSegmentPool, newSpoolRoot, plantBacklog } from '../backlog.js';
import { IngestProcess } from '../ingest-process.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { spread } from '../stats.js';
import { QUIET_SOURCE } from './drain.js';

const SECTION = 'Drain behind a slow link';
/** 2 s of ~4 Mbit/s video. */
const SEGMENT_BYTES = 1_000_000;

/**
 * A backlog behind an ingest reading at `rate`; halfway through, the ingest goes away for
 * `outageMs` (stopped, then started again on the same port and folder). Drain rate over the
 * time the link was up, as a share of the limit, and outage end → first accepted segment.
 */
export async function slowLinkBenchmark(profile: Profile, log: (line: string) => void): Promise<Row[]> {
  const { rate, rateBytesPerS, backlogS, outageMs, runs } = profile.slowLink;
  const count = Math.round(backlogS / 2);
  const pool = makeSegmentPool(count, SEGMENT_BYTES);
  const shares: number[] = [];
  const recoveries: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      let ingest = await IngestProcess.start({ readRate: rate });
      const spoolRoot = newSpoolRoot();
      const camera = `bench-slow-r${r}`;
      plantBacklog(spoolRoot, camera, pool, count);
      const relay = new BenchRelay({
        source: 'testsrc',
        cloud: ingest.url,
        spoolRoot,
        cameraId: camera,
        extra: QUIET_SOURCE,
      });
      const backlog = () => ingest.accepted(camera).filter((row) => (row.sequence ?? count) < count);
      try {
        await relay.waitFor(() => backlog().length >= count / 2, 600_000, 'half the backlog');
        const before = backlog();
        await ingest.stop();
        await sleep(outageMs);
        ingest = await IngestProcess.start({ readRate: rate, port: ingest.port, outDir: ingest.outDir });
        const upAt = ingest.upAt;
        await relay.waitFor(() => backlog().length >= count, 600_000, 'the whole backlog');
        const after = backlog().filter((row) => Date.parse(row.ts) >= upAt);
        const bytes = (rows: typeof before) => rows.slice(1).reduce((sum, row) => sum + row.size, 0);
        const span = (rows: typeof before) =>
          rows.length < 2 ? 0 : (Date.parse(rows.at(-1)!.ts) - Date.parse(rows[0]!.ts)) / 1000;
        const rateSeen = (bytes(before) + bytes(after)) / (span(before) + span(after));
        shares.push((rateSeen / rateBytesPerS) * 100);
        recoveries.push((Date.parse(after[0]!.ts) - upAt) / 1000);
        log(
          `slow link run ${r + 1}/${runs}: ${(rateSeen / 1e6).toFixed(2)} MB/s, first accepted ${recoveries.at(-1)!.toFixed(2)} s after the outage`,
        );
      } finally {
        await relay.stop();
        await ingest.stop();
        rmSync(spoolRoot, { recursive: true, force: true });
        rmSync(ingest.outDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(pool.dir, { recursive: true, force: true });
  }
  const share = spread(shares);
  const recovery = spread(recoveries);
  return [
    {
      section: SECTION,
      figure: `drain rate / --read-rate ${rate} (${backlogS} s backlog)`,
      unit: '%',
      value: share,
      goal: '≥ 90 %',
      meets: share.median >= 90,
    },
    {
      section: SECTION,
      figure: `${outageMs / 1000} s outage: ingest up → first segment accepted`,
      unit: 's',
      value: recovery,
      goal: '≤ 3 s',
      meets: recovery.median <= 3,
    },
  ];
}
