import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDurationMs } from '../config/parse.js';
import { NO_PROXY_VALUE } from '../config/proxy.js';
import { resolveRelayConfig } from '../config/relay-config.js';
import { ExitCode } from '../errors.js';
import { IngestServer } from '../ingest-server/server.js';
import { runRelay } from '../lifecycle/relay.js';
import { EventBus } from '../telemetry/events.js';
import { DEMO_DEFAULTS, type DemoFlags } from './demo-settings.js';
import { exitCodeOf } from './exit-code.js';
import { attachOutput } from './output.js';
import type { ProcessStop } from './process-stop.js';

const DEMO_TOKEN = 'demo-token';
/** A stop may take --drain-timeout; past this much more the process exits anyway. */
const STOP_SLACK_MS = 800;

/**
 * `trio-relay demo`: the local ingest on a free loopback port, and the relay sending it a
 * synthetic test pattern with the live status line, then a summary. Needs nothing but `npm ci`.
 */
export async function runDemo(flags: DemoFlags, stop: ProcessStop): Promise<number> {
  const durationMs = parseDurationMs('duration', flags.duration ?? DEMO_DEFAULTS.duration);
  const work = mkdtempSync(join(tmpdir(), 'trio-relay-demo-'));
  const outDir = resolve(flags.out ?? join(work, 'ingest'));
  const server = await IngestServer.start({ port: 0, outDir, token: DEMO_TOKEN });
  const config = resolveRelayConfig({
    source: 'testsrc',
    cloud: server.url,
    token: DEMO_TOKEN,
    cameraId: 'demo-camera',
    name: 'trio-relay demo',
    fps: 10,
    resolution: '640x360',
    segmentDuration: 2,
    spoolDir: join(work, 'spool'),
    ffmpeg: flags.ffmpeg,
    // Its own ingest on this machine: a proxy of the environment is for the internet.
    proxy: NO_PROXY_VALUE,
  });
  const bus = new EventBus();
  const output = attachOutput(bus, { json: false, verbose: false, plainStatusMs: 2000 });
  // First thing: where to watch. The demo's key is no secret, so the address carries it (in the
  // fragment, which the browser never sends: the page passes it as X-API-Key).
  output.write(`demo: watch it at ${server.viewerUrl}#key=${DEMO_TOKEN}`);
  output.write(
    `demo: local ingest at ${server.url}, relaying testsrc for ${durationMs / 1000} s (Ctrl-C stops early)`,
  );
  const timer = setTimeout(() => stop.request('demo finished'), durationMs).unref();
  stop.armDeadline(config.camera.drainTimeoutMs + STOP_SLACK_MS, ExitCode.ok);
  let code: number;
  try {
    code = exitCodeOf(
      await runRelay(config, {
        bus,
        onTracker: output.onTracker,
        stop: stop.signal,
        onForce: (callback) => stop.onForce(callback),
      }),
    );
  } finally {
    clearTimeout(timer);
    output.close();
    await server.close();
  }
  const stats = server.stats();
  const sent = output.snapshot();
  const cameraDir = join(outDir, 'demo-camera');
  const last = server.accepted().at(-1);
  output.write(
    [
      `demo: the relay sent ${sent?.delivered ?? 0} segment(s), ${kib(sent?.bytesSent ?? 0)}; ` +
        `the ingest received ${stats.accepted} segment(s), ${kib(stats.bytes)}` +
        (stats.duplicates ? ` (+${stats.duplicates} duplicate(s) ignored)` : ''),
      `  segments and ledger: ${cameraDir}`,
      ...(last?.file ? [`  play one:            ffplay ${join(cameraDir, last.file)}`] : []),
    ].join('\n'),
  );
  return stats.accepted > 0 ? code : ExitCode.failure;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
