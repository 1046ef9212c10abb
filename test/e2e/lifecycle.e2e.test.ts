import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal } from '../../src/spool/journal.js';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll, startIngestForTest } from '../helpers/cleanup.js';
import { type CliProcess, cliPath } from '../helpers/cli.js';
import {
  acceptedSequences,
  expectCameraDelivered,
  expectSequencesInOrder,
  stopRelay,
} from '../helpers/delivery.js';
import { readLossLedger } from '../helpers/oracle.js';
import { childPids, running } from '../helpers/proc.js';
import {
  closedSequences,
  fastRelayArgs,
  newSpoolDir,
  type RelayEvent,
  spoolDirs,
  startRelay,
  waitForClosed,
} from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

cleanUpAfterAll();

async function journalOf(spool: string) {
  const [dir] = spoolDirs(spool);
  return dir ? readJournal(join(spool, dir)) : undefined;
}

describe('lifecycle', () => {
  it('(a) SIGTERM under `timeout --signal=TERM -k 10` exits 0 in time; closed segments are delivered or spooled', async () => {
    const camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const args = fastRelayArgs(camera.url, server.url, spool, ['--camera-id', 'cam-timeout']);
    const child = spawn(
      'timeout',
      ['--preserve-status', '--signal=TERM', '-k', '10', '8', process.execPath, cliPath, ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // The ingest hangs from the 4th segment on, so something is still pending at the signal.
    await server.waitFor((s) => s.accepted >= 3, 30_000);
    server.faults.add({ kind: 'hang', count: Number.POSITIVE_INFINITY });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // The relay's own status: it stopped cleanly, before timeout's -k would have killed it.
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/"state":"stopped"/);
    const closed = stderr
      .split('\n')
      .filter((l) => l.includes('"phase":"closed"'))
      .map((l) => JSON.parse(l).sequence as number);
    const delivered = acceptedSequences(server, 'cam-timeout');
    const left = ((await journalOf(spool))?.segments ?? []).map((s) => s.sequence);
    // A set: each closed segment is either delivered or still spooled (as sorted sets).
    expect([...delivered, ...left].sort((a, b) => a - b)).toEqual(closed.sort((a, b) => a - b));
    expect(left.length).toBeGreaterThan(0);
    expectSequencesInOrder(server, 'cam-timeout');
  });

  it('(b) SIGKILL mid-run, restart: what the camera streamed before the kill arrives, once, in order', async () => {
    const camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const since = Date.now();
    const first = startRelay(camera.url, server.url, spool, ['--camera-id', 'cam-kill']);
    await server.waitFor((s) => s.accepted >= 2, 30_000);
    await server.faults.down(); // a backlog builds up in the spool
    const closedSoFar = closedSequences(first).length;
    await waitForClosed(first, closedSoFar + 3);
    const ffmpeg = childPids(first.pid);
    first.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    // ffmpeg dies with the relay (parent-death signal), within a second.
    await expect.poll(() => ffmpeg.filter(running), { timeout: 1000, interval: 50 }).toEqual([]);
    const closedBeforeKill = closedSequences(first);
    await server.faults.up();

    const restartedAt = Date.now();
    const second = startRelay(camera.url, server.url, spool, ['--camera-id', 'cam-kill']);
    // Two segments of its own capture (not the salvaged one): the restarted run has streamed.
    await second.waitFor(
      () => second.events().filter((e) => e.phase === 'closed').length >= 2,
      30_000,
      'two live segments after the restart',
    );
    const target = closedBeforeKill.length;
    await server.waitFor(
      () =>
        acceptedSequences(server, 'cam-kill').filter((s) => closedBeforeKill.includes(s)).length >= target,
      30_000,
    );
    expect(await stopRelay(second)).toBe(0);
    await expectCameraDelivered({
      ingest: server,
      cameraId: 'cam-kill',
      camera,
      spool,
      since,
      runs: [
        { startedAt: since, endedAt: killedAt, label: 'SIGKILL' },
        { startedAt: restartedAt, endedAt: Date.now(), label: 'SIGTERM' },
      ],
    });
    // Recovered segments went first, with their original sequence: no gaps, no repeats.
    expectSequencesInOrder(server, 'cam-kill');
    expect(second.stderr()).toMatch(/recovered \d+ segment/);
  });

  it('(c) two relays share a spool dir; one is killed: the survivor is untouched, the restarted one recovers its own', async () => {
    // Each relay has its own camera: the test is about the shared spool, and a camera shared by
    // clients that come and go (gst-rtsp-server's shared media) can stall the others by itself.
    const liveCamera = await startCamera();
    const deadCamera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const since = Date.now();
    const survivor = startRelay(liveCamera.url, server.url, spool, ['--camera-id', 'cam-live']);
    const victim = startRelay(deadCamera.url, server.url, spool, ['--camera-id', 'cam-dead']);
    await server.waitFor(
      () =>
        acceptedSequences(server, 'cam-dead').length >= 2 &&
        acceptedSequences(server, 'cam-live').length >= 2,
      30_000,
    );
    victim.kill('SIGKILL');
    await victim.exited;
    const victimClosed = closedSequences(victim);
    const restarted = startRelay(deadCamera.url, server.url, spool, ['--camera-id', 'cam-dead']);
    await waitForClosed(restarted, 3);
    await server.waitFor(
      () => victimClosed.every((s) => acceptedSequences(server, 'cam-dead').includes(s)),
      30_000,
    );
    expect(await stopRelay(restarted)).toBe(0);
    expect(await stopRelay(survivor)).toBe(0);
    // Untouched: one ffmpeg run, every second its camera streamed received, in order.
    const accounting = await expectCameraDelivered({
      ingest: server,
      cameraId: 'cam-live',
      camera: liveCamera,
      spool,
      since,
    });
    const warnings = survivor
      .stderr()
      .split('\n')
      .filter((line) => /"level":"(warn|error)"/.test(line));
    expect(accounting.runs[0]!.ffmpegRuns, warnings.join('\n')).toBe(1);
    expectSequencesInOrder(server, 'cam-live');
    expect(survivor.stderr()).not.toMatch(/recovered/);
  });

  it('(d) the camera goes away for 15 s: the relay survives, resumes, and loses only the downtime', async () => {
    const camera: Camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const since = Date.now();
    const relay: CliProcess = startRelay(camera.url, server.url, spool, ['--camera-id', 'cam-reboot']);
    await server.waitFor((s) => s.accepted >= 3, 30_000);
    await camera.stop();
    const downAt = Date.now();
    await relay.waitForOutput(/"phase":"restarting"/, 20_000, 'stderr');
    await new Promise((r) => setTimeout(r, Math.max(0, 15_000 - (Date.now() - downAt)))); // the outage itself
    await camera.restart();
    const upAt = Date.now();
    const before = server.stats().accepted;
    await server.waitFor((s) => s.accepted >= before + 3, 30_000);
    expect(await stopRelay(relay)).toBe(0);
    const rows = server.accepted('cam-reboot');
    const starts = rows.map((r) => Date.parse(r.start!));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]! - rows[i]!.duration! * 1000);
    const biggest = Math.max(...gaps);
    // The hole in the footage is the downtime…
    expect(biggest).toBeGreaterThan(10_000);
    // …and not a backoff on top, judged by what the relay did rather than by a stopwatch: while
    // the camera was away it probed it, and from its return to the first segment captured after
    // it no ffmpeg run failed and no restart waited (a backoff would show as `restarting`).
    const events = relay.events() as RelayEvent[];
    expect(relay.stderr()).toMatch(/camera .* unreachable: probing/);
    const backAt = (e: RelayEvent) => Date.parse(String(e.ts)) >= upAt;
    const firstBack = events.findIndex((e) => backAt(e) && e.type === 'segment' && e.phase === 'closed');
    expect(firstBack).toBeGreaterThanOrEqual(0);
    const meanwhile = events.slice(0, firstBack).filter(backAt);
    const trouble = meanwhile.filter((e) => e.type === 'ffmpeg' && e.phase !== 'started');
    expect(trouble, JSON.stringify(meanwhile)).toEqual([]);
    // Two camera sessions, two PTS timelines: each streamed second of both arrived.
    const accounting = await expectCameraDelivered({
      ingest: server,
      cameraId: 'cam-reboot',
      camera,
      spool,
      since,
    });
    expect(accounting.runs[0]).toMatchObject({ sessions: 2, ffmpegRuns: 2 });
    expectSequencesInOrder(server, 'cam-reboot');
  });

  it('(e) a stalled camera (RTSP up, no frames) triggers an ffmpeg restart', async () => {
    const camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const since = Date.now();
    const relay = startRelay(camera.url, server.url, spool, [
      '--camera-id',
      'cam-stall',
      '--stall-timeout',
      '3s',
    ]);
    await server.waitFor((s) => s.accepted >= 2, 30_000);
    camera.stall();
    await relay.waitForOutput(/"phase":"(stalled|restarting)"/, 20_000, 'stderr');
    camera.resume();
    const before = server.stats().accepted;
    await server.waitFor((s) => s.accepted >= before + 2, 30_000);
    expect(await stopRelay(relay)).toBe(0);
    await expectCameraDelivered({ ingest: server, cameraId: 'cam-stall', camera, spool, since });
    expectSequencesInOrder(server, 'cam-stall');
  });

  it('(f) a symlink with our prefix is left alone; a stale dir of ours is removed and its segment ledgered', async () => {
    // Another uid's dir needs root to make: the unit test in test/spool/recovery.test.ts
    // covers that for every user by changing the relay's uid instead.
    const camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const precious = tempDir('precious-');
    writeFileSync(join(precious, 'keep.txt'), 'x');
    symlinkSync(precious, join(spool, 'trio-relay-segments-cam-link~-1-link'));
    const stale = join(spool, 'trio-relay-segments-cam-gone~-2-stale');
    mkdirSync(stale);
    writeFileSync(join(stale, 'seg-000000001.ts'), 'x');
    const past = new Date(Date.now() - 7_200_000);
    utimesSync(stale, past, past);
    const relay = startRelay(camera.url, server.url, spool, [
      '--camera-id',
      'cam-sweep',
      '--stale-after',
      '1s',
    ]);
    await server.waitFor((s) => s.accepted >= 2, 30_000);
    expect(await stopRelay(relay)).toBe(0);
    expect(existsSync(join(precious, 'keep.txt'))).toBe(true);
    expect(readdirSync(spool)).toContain('trio-relay-segments-cam-link~-1-link');
    expect(existsSync(stale)).toBe(false);
    expect(readLossLedger(spool, 'cam-gone')).toEqual([
      expect.objectContaining({ seqFrom: 1, reason: 'stale' }),
    ]);
  });

  it('a second signal during the drain exits at once (130) with the spool intact; an immediate repeat does not', async () => {
    const camera = await startCamera();
    const server = await startIngestForTest();
    const spool = newSpoolDir();
    const relay = startRelay(camera.url, server.url, spool, [
      '--camera-id',
      'cam-twice',
      '--drain-timeout',
      '30s',
    ]);
    await server.waitFor((s) => s.accepted >= 2, 30_000);
    server.faults.add({ kind: 'hang', count: Number.POSITIVE_INFINITY });
    await server.waitFor((s) => s.faulted >= 1, 30_000);
    relay.kill('SIGINT');
    relay.kill('SIGINT'); // a repeat right away (as timeout(1) sends) is the same stop
    await relay.waitForOutput(/"state":"draining"/, 10_000, 'stderr');
    // Two progress events after the drain began: more than a second has passed.
    await relay.waitForOutput(
      /"state":"draining"[\s\S]*"type":"progress"[\s\S]*"type":"progress"/,
      10_000,
      'stderr',
    );
    expect(relay.stderr()).not.toMatch(/second SIGINT/);
    relay.kill('SIGINT');
    expect((await relay.exited).code).toBe(130);
    const left = ((await journalOf(spool))?.segments ?? []).map((s) => s.sequence);
    const delivered = acceptedSequences(server, 'cam-twice');
    expect(left.length).toBeGreaterThan(0);
    expect([...delivered, ...left].sort((a, b) => a - b)).toEqual(closedSequences(relay));
    expectSequencesInOrder(server, 'cam-twice');
  });
});
