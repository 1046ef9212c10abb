import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultRule } from '../../../src/ingest-server/faults.js';
import { IngestServer } from '../../../src/ingest-server/server.js';
import { TOKEN } from '../../helpers/relay-run.js';
import { newSpoolRoot } from '../backlog.js';
import type { Profile } from '../profile.js';
import { BenchRelay } from '../relay-process.js';
import type { Row } from '../report.js';
import { spread } from '../stats.js';

const SECTION = 'Recovery after an ingest fault';
/** A small live camera: 2 s segments, so a fault of a few seconds leaves some behind. */
const LIVE_SOURCE = ['--resolution', '160x120', '--fps', '5', '--segment-duration', '2'];
const SETTLE_MS = 60_000;

/**
 * A live camera relayed (default deadline and backoff) to an in-process ingest whose faults the
 * scenario switches on and off: a burst of 503s, then POSTs that hang without an answer (the
 * ingest reads the body, never answers) for longer than the phase timeouts. For each: seconds
 * from the ingest's recovery to the acceptance of the last segment closed during the fault,
 * and the requests the ingest saw per 2 s of fault.
 */
export async function recoveryBenchmark(profile: Profile, log: (line: string) => void): Promise<Row[]> {
  const { burstMs, hangMs, runs } = profile.recovery;
  const faults: Array<{ name: string; ms: number; rule: FaultRule }> = [
    {
      name: `${burstMs / 1000} s burst of 503s`,
      ms: burstMs,
      rule: { kind: 'status', status: 503, count: Infinity },
    },
    {
      name: `${hangMs / 1000} s of hung POSTs (30 s deadline)`,
      ms: hangMs,
      rule: { kind: 'hang', count: Infinity },
    },
  ];
  const recoveries = faults.map(() => [] as number[]);
  const rates = faults.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    const outDir = mkdtempSync(join(tmpdir(), 'bench-recovery-'));
    const ingest = await IngestServer.start({ port: 0, outDir, token: TOKEN });
    const spoolRoot = newSpoolRoot();
    const camera = `bench-recovery-r${r}`;
    const relay = new BenchRelay({
      source: 'testsrc',
      cloud: ingest.url,
      spoolRoot,
      cameraId: camera,
      extra: LIVE_SOURCE,
    });
    const requests: number[] = [];
    ingest.on('request', () => requests.push(Date.now()));
    try {
      await ingest.waitFor(() => ingest.accepted(camera).length >= 2, SETTLE_MS);
      for (const [i, fault] of faults.entries()) {
        const faultAt = Date.now();
        ingest.faults.add(fault.rule);
        await sleep(fault.ms);
        ingest.faults.clear();
        const recoverAt = Date.now();
        const inFault = [...relay.closedAt()]
          .filter(([, at]) => at <= recoverAt)
          .map(([sequence]) => sequence);
        const accepted = () =>
          new Map(ingest.accepted(camera).map((row) => [row.sequence, Date.parse(row.ts)]));
        await ingest.waitFor(() => inFault.every((s) => accepted().has(s)), SETTLE_MS);
        const lastAt = Math.max(...inFault.map((s) => accepted().get(s)!));
        recoveries[i]!.push((lastAt - recoverAt) / 1000);
        const seen = requests.filter((at) => at >= faultAt && at <= recoverAt).length;
        rates[i]!.push((seen * 2000) / (recoverAt - faultAt));
        log(
          `recovery run ${r + 1}/${runs}, ${fault.name}: last in-fault segment accepted ${recoveries[i]!.at(-1)!.toFixed(2)} s after, ${seen} requests during the fault`,
        );
        // The next fault starts from a relay that is delivering live again.
        const now = ingest.accepted(camera).length;
        await ingest.waitFor(() => ingest.accepted(camera).length >= now + 1, SETTLE_MS);
      }
    } finally {
      await relay.stop();
      await ingest.close();
      rmSync(spoolRoot, { recursive: true, force: true });
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  return faults.flatMap((fault, i) => {
    const recovery = spread(recoveries[i]!);
    const rate = spread(rates[i]!);
    return [
      {
        section: SECTION,
        figure: `${fault.name}: ingest recovered → last in-fault segment accepted`,
        unit: 's',
        value: recovery,
        goal: '≤ 3 s',
        meets: recovery.median <= 3,
      },
      {
        section: SECTION,
        figure: `${fault.name}: requests the ingest saw per 2 s of fault (one camera)`,
        unit: '',
        value: rate,
        goal: '≤ 1 + in-flight',
        meets: rate.median <= 2,
      },
    ];
  });
}
