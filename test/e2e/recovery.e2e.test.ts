import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServedRequest } from '../../src/ingest-server/events.js';
import type { FaultRule } from '../../src/ingest-server/faults.js';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { expectCameraDelivered, stopRelay } from '../helpers/delivery.js';
import { writeFleetConfig } from '../helpers/fleet.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, type RelayEvent, TOKEN } from '../helpers/relay-run.js';

cleanUpAfterAll();

const CAMERAS = ['cam-r1', 'cam-r2'];
const MOUNTS: Record<string, string> = { 'cam-r1': '/stream', 'cam-r2': '/stream-2' };
/**
 * Segments per probe: at most one probe per 2 s per process (2–2.5 s start to start), and each
 * camera closes a 1 s segment a second, so a camera's segments are the clock probes are counted by.
 */
const SEGMENTS_PER_PROBE = 2;

interface Seen {
  at: number;
  method: string;
  outcome: ServedRequest['outcome'];
}

/** Sequences a camera's ffmpeg closed from `from` up to `until` (ms), by the relay's own NDJSON. */
function closedBetween(relay: CliProcess, camera: string, from: number, until: number): number[] {
  return (relay.events() as RelayEvent[])
    .filter((e) => e.camera === camera && e.type === 'segment' && e.phase === 'closed')
    .filter((e) => Date.parse(String(e.ts)) >= from && Date.parse(String(e.ts)) <= until)
    .map((e) => e.sequence!);
}

/** When the relay said the ingest is away (its one outage line), ms. */
function awaySaidAt(relay: CliProcess): number | undefined {
  const line = (relay.events() as RelayEvent[]).find(
    (e) => e.type === 'log' && /probing it every/.test(String(e.message)),
  );
  return line ? Date.parse(String(line.ts)) : undefined;
}

/**
 * Two cameras in one relay process with the default retry and deadline settings; `rule` is in
 * force from the first accepted segments until the ingest has seen `probes` probes, then
 * cleared. Every segment closed during the fault must arrive; the seconds from the end of the
 * fault to the last of them are logged, not asserted (speed goals belong to `npm run bench`).
 */
async function faultAndRecover(label: string, rule: FaultRule, probes: number) {
  const camera = await startCamera({ mounts: 2 });
  const ingest: IngestServer = await startTestIngest();
  const spool = newSpoolDir();
  const file = join(spool, 'cameras.yaml');
  writeFleetConfig(
    file,
    { cloud: ingest.url, 'spool-dir': spool, 'segment-duration': 1, codec: 'copy' },
    CAMERAS.map((id) => ({ id, source: camera.url + MOUNTS[id]!.slice('/stream'.length) })),
  );
  const since = Date.now();
  const relay = startCli(['--config', file, '--token', TOKEN, '--json']);
  const seen: Seen[] = [];
  ingest.on('request', (o) => seen.push({ at: Date.now(), method: o.method, outcome: o.outcome }));
  try {
    // Once (one clean run) nothing arrived at all: say what the relay said, not only the ingest.
    await ingest
      .waitFor(() => CAMERAS.every((id) => ingest.accepted(id).length >= 2), 30_000)
      .catch((error: unknown) => {
        const said = relay
          .stderr()
          .split('\n')
          .filter((line) => !/"type":"progress"/.test(line));
        throw new Error(`${String(error)}\nthe relay's last lines:\n${said.slice(-40).join('\n')}`);
      });
    const faultAt = Date.now();
    ingest.faults.add(rule);
    const heads = () => seen.filter((s) => s.method === 'HEAD' && s.at >= faultAt).length;
    await ingest.waitFor(() => heads() >= probes, 60_000);
    const awayAt = awaySaidAt(relay);
    ingest.faults.clear();
    const recoverAt = Date.now();

    const inFault = Object.fromEntries(CAMERAS.map((id) => [id, closedBetween(relay, id, 0, recoverAt)]));
    const arrived = (id: string) => new Set(ingest.accepted(id).map((row) => row.sequence));
    await ingest.waitFor(() => CAMERAS.every((id) => inFault[id]!.every((s) => arrived(id).has(s))), 60_000);
    const lastAt = Math.max(
      ...CAMERAS.flatMap((id) =>
        ingest
          .accepted(id)
          .filter((row) => inFault[id]!.includes(row.sequence ?? -1))
          .map((row) => Date.parse(row.ts)),
      ),
    );
    const streamed = CAMERAS.map((id) => closedBetween(relay, id, faultAt, recoverAt).length);
    console.log(
      `${label}: fault ${((recoverAt - faultAt) / 1000).toFixed(1)} s (${streamed.join(' + ')} segments closed), last in-fault segment accepted ${((lastAt - recoverAt) / 1000).toFixed(2)} s after the ingest recovered`,
    );

    // The request rate during the fault, from the ingest's own log and counted against what each
    // camera streamed meanwhile (its closed segments), not a stopwatch: one probe per two
    // segments for the whole process (two cameras, not two probe series), and once the relay said
    // the ingest is away, no segment but those already in flight (one per camera).
    const during = seen.filter((s) => s.at >= faultAt && s.at <= recoverAt);
    const probesSeen = during.filter((s) => s.method === 'HEAD');
    for (const [i, id] of CAMERAS.entries()) {
      expect(probesSeen.length, `${id} closed ${streamed[i]}`).toBeLessThanOrEqual(
        Math.floor(streamed[i]! / SEGMENTS_PER_PROBE) + 1,
      );
    }
    expect(awayAt).toBeDefined();
    const postsWhileAway = during.filter((s) => s.method === 'POST' && s.at > awayAt!);
    expect(postsWhileAway.length).toBeLessThanOrEqual(CAMERAS.length);
    // The outage was said once for the process, and its end once.
    expect(relay.stderr().match(/probing it every/g)).toHaveLength(1);
    expect(relay.stderr().match(/the ingest answers again: resuming uploads/g)).toHaveLength(1);

    expect(await stopRelay(relay)).toBe(0);
    for (const id of CAMERAS) {
      await expectCameraDelivered({ ingest, cameraId: id, camera, mount: MOUNTS[id]!, spool, since });
    }
    return relay;
  } finally {
    relay.kill('SIGKILL');
    await ingest.close();
  }
}

describe('back online soon after a fault of the ingest', () => {
  it('a burst of 503s: one probe per interval for the process, every segment delivered after it', {
    timeout: 180_000,
  }, async () => {
    // ~8 s: the first probe 2–2.5 s after the first 503, then three more.
    const relay = await faultAndRecover('503 burst', { kind: 'status', status: 503, count: Infinity }, 4);
    expect(relay.stderr()).toMatch(/the ingest is failing: probing it every 2 s \(HTTP 503\)/);
  });

  it('hung POSTs, longer than the phase timeouts and shorter than the deadline: noticed in seconds', {
    timeout: 180_000,
  }, async () => {
    // Hung segments are noticed 5 s after their body (the headers phase), not at the 30 s deadline.
    const relay = await faultAndRecover('hung POSTs', { kind: 'hang', count: Infinity }, 3);
    const reasons = (relay.events() as RelayEvent[])
      .filter((e) => e.type === 'segment' && e.phase === 'retry')
      .map((e) => String(e.reason));
    expect(reasons.some((r) => r.startsWith('ERR_HEADERS_TIMEOUT'))).toBe(true);
    expect(reasons.filter((r) => r.startsWith('ERR_DEADLINE'))).toEqual([]);
    expect(relay.stderr()).toMatch(/the ingest is unreachable: probing it every 2 s \(ERR_HEADERS_TIMEOUT/);
  });
});
