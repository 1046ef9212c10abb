import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { classify } from '../../src/uploader/classify.js';
import { UndiciTransport } from '../../src/uploader/http.js';
import { PhaseTimeoutError, PhaseWatch, UplinkRate } from '../../src/uploader/request-phases.js';
import { DEADLINE_CODE, PHASE_TIMEOUT_CODES } from '../../src/uploader/transport.js';

/** Short phases against a long deadline: each phase must be the one that speaks. */
const PHASES = { connectMs: 400, stallMs: 400, headersMs: 400 };
const DEADLINE_MS = 20_000;

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function track(server: Server | ReturnType<typeof createTcpServer>): void {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  track(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const dir = mkdtempSync(join(tmpdir(), 'phases-test-'));
function fileOf(bytes: number): string {
  const file = join(dir, `seg-${bytes}.ts`);
  writeFileSync(file, Buffer.alloc(bytes, 0x47));
  return file;
}

function post(transport: UndiciTransport, url: string, file: string, bytes: number) {
  return transport.send({
    method: 'POST',
    url,
    headers: { 'content-type': 'video/mp2t' },
    body: { file, bytes },
    timeoutMs: DEADLINE_MS,
  });
}

function transport(): UndiciTransport {
  const t = new UndiciTransport({ connectTimeoutMs: DEADLINE_MS, phases: PHASES });
  closers.push(() => void t.close());
  return t;
}

describe('UndiciTransport: a timeout per phase inside the hard deadline', () => {
  it('an ingest that reads the body and never answers is noticed by the headers phase, not the deadline', async () => {
    const url = await serve((req) => req.resume());
    const outcome = await post(transport(), url, fileOf(64 * 1024), 64 * 1024);
    expect(outcome).toMatchObject({ kind: 'error', code: PHASE_TIMEOUT_CODES.headers });
    expect(outcome).toMatchObject({ message: expect.stringMatching(/no answer \d+ ms after/) });
    // Typed and TRANSIENT: the ingest may be hung, so the pacer probes it.
    expect(classify(outcome)).toMatchObject({ class: 'transient', unreachable: true });
  });

  it('an ingest that stops reading the body is noticed by the no-progress timer', async () => {
    const url = await serve((req) => req.pause());
    // Far more than loopback's socket buffers hold: the writes must block.
    const bytes = 48 * 1024 * 1024;
    const outcome = await post(transport(), url, fileOf(bytes), bytes);
    expect(outcome).toMatchObject({ kind: 'error', code: PHASE_TIMEOUT_CODES.body });
    expect(classify(outcome)).toMatchObject({ class: 'transient', unreachable: true });
  });

  it('a connection whose TLS handshake never completes is noticed by the connect phase', async () => {
    const silent = createTcpServer(() => undefined);
    track(silent);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    // The agent's connect timeout is the connect phase (the fleet sets it from PHASE_LIMITS).
    const t = new UndiciTransport({ connectTimeoutMs: PHASES.connectMs, phases: PHASES });
    closers.push(() => void t.close());
    const outcome = await post(t, url, fileOf(1024), 1024);
    expect(outcome).toMatchObject({ kind: 'error', code: PHASE_TIMEOUT_CODES.connect });
    expect(classify(outcome)).toMatchObject({ class: 'transient', unreachable: true });
  });

  it('a slow ingest that keeps reading is never cut, however long the upload takes', async () => {
    // Reads 64 KiB every 100 ms (~640 KB/s): each stretch without progress is far below 400 ms,
    // the whole upload far above it.
    const url = await serve((req, res) => {
      req.pause();
      const tick = setInterval(() => {
        req.read(64 * 1024);
      }, 100);
      req.on('readable', () => undefined);
      req.on('end', () => {
        clearInterval(tick);
        res.writeHead(204).end();
      });
      req.on('close', () => clearInterval(tick));
    });
    const bytes = 2 * 1024 * 1024;
    expect(await post(transport(), url, fileOf(bytes), bytes)).toMatchObject({
      kind: 'response',
      status: 204,
    });
  });

  it('phases longer than the deadline leave it to the deadline', async () => {
    const url = await serve((req) => req.resume());
    const t = new UndiciTransport({ connectTimeoutMs: 2000, phases: { ...PHASES, headersMs: 5000 } });
    closers.push(() => void t.close());
    const outcome = await t.send({
      method: 'POST',
      url,
      headers: {},
      body: { file: fileOf(1024), bytes: 1024 },
      timeoutMs: 600,
    });
    expect(outcome).toMatchObject({ kind: 'error', code: DEADLINE_CODE });
  });
});

describe('UplinkRate', () => {
  it('grants a slow uplink the time to flush what the socket may still hold, a fast one next to none', () => {
    const rate = new UplinkRate();
    // Before any measurement: 1 Mbit/s assumed, so 1 MB may take 8 s to leave.
    expect(rate.flushMs(1_000_000)).toBe(8000);
    rate.observe(100_000_000, 1000);
    expect(rate.flushMs(1_000_000)).toBe(10);
    // Never more than a send buffer's worth is still in the box.
    const slow = new UplinkRate();
    slow.observe(125_000, 1000);
    expect(slow.flushMs(64 * 1024 * 1024)).toBe(slow.flushMs(4 * 1024 * 1024));
  });

  it('names the phase in a typed error', () => {
    const error = new PhaseTimeoutError('body', 5000);
    expect(error).toMatchObject({ code: 'ERR_BODY_STALLED', phase: 'body', ms: 5000 });
  });
});

describe('PhaseWatch: one request, one signal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts at the deadline and says so', () => {
    vi.useFakeTimers();
    const watch = new PhaseWatch(1000);
    vi.advanceTimersByTime(999);
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.deadlinePassed).toBe(true);
    expect(watch.expired).toBeUndefined();
  });

  it('follows the outer signal while the request runs, and lets go of it at the end', () => {
    vi.useFakeTimers();
    const stop = new AbortController();
    const running = new PhaseWatch(30_000, stop.signal);
    const ended = new PhaseWatch(30_000, stop.signal);
    ended.end();
    stop.abort();
    expect(running.signal.aborted).toBe(true);
    // Ended: no listener left on the stop signal, and no deadline timer left behind.
    expect(ended.signal.aborted).toBe(false);
    running.end();
    expect(vi.getTimerCount()).toBe(0);
  });
});
