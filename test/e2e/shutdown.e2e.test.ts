import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IngestServer } from '../../src/ingest-server/server.js';
import { readJournal } from '../../src/spool/journal.js';
import { segmentName } from '../../src/spool/naming.js';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { listenOnFreePort } from '../helpers/ports.js';
import { fastRelayArgs, newSpoolDir, spoolDirs, TOKEN } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The stop budget these tests give the relay. How soon after SIGTERM it is gone is not timed here
 * (a figure for the benchmark): where only the budget can end the stop (a hung registration, an
 * outage, a slow uplink), that the relay ends at all, ordinarily, proves the budget ends it.
 */
const DRAIN_MS = 3000;

let sample: Buffer;
const ingests: IngestServer[] = [];
cleanUpAfterAll(async () => {
  for (const ingest of ingests) await ingest.close();
});
beforeAll(() => {
  const out = join(tempDir('shutdown-sample-'), 'sample.ts');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-t', '1'],
    ...['-c:v', 'libx264', '-g', '5', '-f', 'mpegts', out],
  ]);
  sample = readFileSync(out);
});

async function ingest(): Promise<IngestServer> {
  const server = await startTestIngest();
  ingests.push(server);
  return server;
}

/** SIGTERM now; resolves with the exit code. */
async function terminate(relay: CliProcess): Promise<{ code: number | null }> {
  relay.kill('SIGTERM');
  const { code } = await relay.exited;
  return { code };
}

/** Every segment file under the spool root is listed in its dir's journal: nothing unjournaled. */
async function expectEverythingJournaled(spool: string): Promise<void> {
  for (const dir of spoolDirs(spool)) {
    const journal = await readJournal(join(spool, dir));
    const listed = new Set(journal?.segments.map((s) => s.name));
    const files = readdirSync(join(spool, dir)).filter((n) => n.startsWith('seg-'));
    // A dir without a journal is recovered by its name; one with a journal must list each file.
    if (journal) expect(files.filter((f) => !listed.has(f))).toEqual([]);
  }
}

/**
 * Resolves once the bin shim ran its first lines: it names the process `trio-relay` right after
 * installing its signal handlers. Before that, Node's own start-up (~0.1–0.3 s) takes the
 * signal's default action, which no JavaScript can change.
 */
async function shimRunning(pid: number): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('trio-relay')) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`process ${pid} never named itself trio-relay`);
}

describe('SIGTERM at any moment: exit 0, the drain budget ending what would not end, nothing unjournaled', () => {
  it('in its first moments, while the CLI is still loading', async () => {
    const server = await ingest();
    const spool = newSpoolDir();
    const relay = startCli(fastRelayArgs('testsrc', server.url, spool, ['--drain-timeout', `${DRAIN_MS}ms`]));
    await shimRunning(relay.pid);
    // Loading the CLI takes a good half second more: nothing has been said yet.
    expect(relay.stderr()).toBe('');
    const { code } = await terminate(relay);
    // Not 143 (killed by the signal) and not silent: an ordinary stop.
    expect(code, relay.stderr()).toBe(0);
    expect(relay.stderr()).toMatch(/"state":"stopped"/);
    expect(spoolDirs(spool)).toEqual([]);
  });

  it('during start-up, at its first word', async () => {
    const server = await ingest();
    const spool = newSpoolDir();
    const args = fastRelayArgs('testsrc', server.url, spool, ['--drain-timeout', `${DRAIN_MS}ms`]);
    const relay = startCli(args);
    await relay.waitForOutput(/"state":"starting"/, 20_000, 'stderr');
    const { code } = await terminate(relay);
    expect(code, relay.stderr()).toBe(0);
    expect(relay.stderr()).toMatch(/"state":"stopped"/);
    // Nothing was captured: no dir, no journal left behind.
    expect(spoolDirs(spool)).toEqual([]);
  });

  it('while registration hangs (the cloud accepts TCP and never answers)', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    const cloud = `http://127.0.0.1:${await listenOnFreePort(silent)}`;
    const registering = once(silent, 'connection');
    const spool = newSpoolDir();
    // The longest deadline there is: the registration cannot end inside this test but by the stop.
    const relay = startCli(
      fastRelayArgs('testsrc', cloud, spool, ['--drain-timeout', `${DRAIN_MS}ms`, '--upload-timeout', '10m']),
    );
    try {
      await registering;
      await relay.waitForOutput(/"phase":"closed"/, 20_000, 'stderr');
      const { code } = await terminate(relay);
      expect(code, relay.stderr()).toBe(0);
      expect(relay.stderr()).toMatch(/segment\(s\) left in .* for the next run/);
      await expectEverythingJournaled(spool);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('during adoption of a large orphan backlog; the next start adopts the rest, and all of it arrives', async () => {
    const server = await ingest();
    const spool = newSpoolDir();
    // A dead run of this camera whose journal was never written: every file must be probed.
    const orphan = join(spool, 'trio-relay-segments-cam-adopt~-1-deadbeef0000');
    mkdirSync(orphan, { mode: 0o700 });
    const count = 120;
    for (let s = 0; s < count; s++) writeFileSync(join(orphan, segmentName(s)), sample);
    const args = fastRelayArgs('testsrc', server.url, spool, [
      ...['--camera-id', 'cam-adopt', '--drain-timeout', `${DRAIN_MS}ms`],
    ]);
    const first = startCli(args);
    await first.waitForOutput(/"phase":"salvaged"/, 20_000, 'stderr');
    const { code } = await terminate(first);
    expect(code, first.stderr()).toBe(0);
    await expectEverythingJournaled(spool);
    // Every file is still somewhere in the spool: moved (and journaled) or not yet touched.
    const files = spoolDirs(spool).flatMap((d) =>
      readdirSync(join(spool, d)).filter((n) => n.startsWith('seg-')),
    );
    const accepted = server.accepted('cam-adopt').length;
    expect(files.length + accepted).toBeGreaterThanOrEqual(count);

    const second = startCli(args);
    await server.waitFor(() => server.accepted('cam-adopt').length >= count, 60_000);
    const again = await terminate(second);
    expect(again.code, second.stderr()).toBe(0);
    const sequences = new Set(server.accepted('cam-adopt').map((r) => r.sequence));
    for (let s = 0; s < count; s++) expect(sequences.has(s), `segment ${s}`).toBe(true);
  });

  it('while relaying a live camera: its last segment is closed and delivered', async () => {
    const camera = await startCamera();
    const server = await ingest();
    const spool = newSpoolDir();
    const relay = startCli(
      fastRelayArgs(camera.url, server.url, spool, [
        '--camera-id',
        'cam-live-stop',
        '--drain-timeout',
        `${DRAIN_MS}ms`,
      ]),
    );
    await server.waitFor(() => server.accepted('cam-live-stop').length >= 3, 30_000);
    const { code } = await terminate(relay);
    expect(code, relay.stderr()).toBe(0);
    expect(relay.stderr()).toMatch(/all segments delivered/);
    expect(spoolDirs(spool)).toEqual([]);
  });

  it('during an outage (connections refused) and while every POST hangs: the backlog is kept', async () => {
    const server = await ingest();
    for (const fault of ['down', 'hang'] as const) {
      const spool = newSpoolDir();
      const camera = `cam-${fault}-stop`;
      const relay = startCli(
        fastRelayArgs('testsrc', server.url, spool, [
          '--camera-id',
          camera,
          '--drain-timeout',
          `${DRAIN_MS}ms`,
        ]),
      );
      await server.waitFor(() => server.accepted(camera).length >= 1, 30_000);
      if (fault === 'down') await server.faults.down();
      else server.faults.add({ kind: 'hang', count: Number.POSITIVE_INFINITY });
      // Refused connections: the relay waits for its probe of the ingest; hung POSTs: it retries.
      await relay.waitFor(
        () =>
          fault === 'down'
            ? relay
                .events()
                .some((e) => e.type === 'log' && /ingest is unreachable: probing/.test(String(e.message)))
            : relay.events().filter((e) => e.phase === 'retry').length >= 2,
        30_000,
        'the relay under the fault',
      );
      // Neither fault ends by itself: the stop's budget ended the wait, and the backlog is kept.
      const { code } = await terminate(relay);
      expect(code, relay.stderr()).toBe(0);
      expect(relay.stderr()).toMatch(/segment\(s\) left in .* for the next run/);
      await expectEverythingJournaled(spool);
      expect(spoolDirs(spool)).toHaveLength(1);
      if (fault === 'down') await server.faults.up();
      else server.faults.clear();
    }
  });
});

describe('SIGTERM behind a slow uplink', () => {
  it('a backlog draining through a slow ingest: exit 0 when the budget ends the drain, the session still ended, the rest kept', async () => {
    // 6 kB/s for segments of ~12 kB a second: the backlog grows, an upload is always under way.
    const server = await IngestServer.start({
      port: 0,
      outDir: tempDir('e2e-ingest-slow-'),
      token: TOKEN,
      readRateBytesPerS: 6000,
    });
    ingests.push(server);
    const spool = newSpoolDir();
    const relay = startCli(
      fastRelayArgs('testsrc', server.url, spool, [
        ...['--camera-id', 'cam-slow-stop', '--drain-timeout', `${DRAIN_MS}ms`, '--upload-timeout', '30s'],
      ]),
    );
    await server.waitFor(() => server.accepted('cam-slow-stop').length >= 2, 30_000);
    await relay.waitFor(
      () => relay.events().filter((e) => e.phase === 'closed').length >= 8,
      30_000,
      'a backlog of closed segments',
    );
    const { code } = await terminate(relay);
    expect(code, relay.stderr()).toBe(0);
    // The DELETE was not stuck behind the upload the stop aborted.
    expect(server.stats().sessionEnds).toBe(1);
    await expectEverythingJournaled(spool);
    expect(spoolDirs(spool)).toHaveLength(1);
    expect(relay.stderr()).toMatch(/segment\(s\) left in .* for the next run/);
  });
});

describe('one relay per camera and spool', () => {
  it('a second relay of the same camera on the same spool refuses with exit 2; the first goes on', async () => {
    const server = await ingest();
    const spool = newSpoolDir();
    const args = fastRelayArgs('testsrc', server.url, spool, ['--camera-id', 'cam-once']);
    const first = startCli(args);
    await server.waitFor(() => server.accepted('cam-once').length >= 1, 30_000);
    const second = startCli(args);
    const { code } = await second.exited;
    expect(code).toBe(2);
    expect(second.stderr()).toMatch(/another trio-relay is already relaying camera cam-once/);
    expect(second.stderr()).toMatch(new RegExp(`pid ${first.pid}`));
    const before = server.accepted('cam-once').length;
    await server.waitFor(() => server.accepted('cam-once').length >= before + 1, 30_000);
    expect((await terminate(first)).code).toBe(0);
    // Each segment arrived once: nothing was sent twice under two run ids.
    const sequences = server.accepted('cam-once').map((r) => r.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it('a killed relay leaves no stale lock: the next start takes over at once', async () => {
    const server = await ingest();
    const spool = newSpoolDir();
    const args = fastRelayArgs('testsrc', server.url, spool, ['--camera-id', 'cam-relock']);
    const first = startCli(args);
    await server.waitFor(() => server.accepted('cam-relock').length >= 1, 30_000);
    first.kill('SIGKILL');
    await first.exited;
    const second = startCli(args);
    await second.waitForOutput(/"state":"relaying"/, 30_000, 'stderr');
    expect((await terminate(second)).code).toBe(0);
    expect(existsSync(join(spool, 'trio-relay-camera-cam-relock.lock'))).toBe(true);
  });
});
