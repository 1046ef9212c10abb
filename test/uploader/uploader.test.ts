import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ExitCode, type RelayError, TlsError } from '../../src/errors.js';
import { LOSS_LEDGER_FILE, REJECTED_DIR, segmentName } from '../../src/spool/naming.js';
import { Spool } from '../../src/spool/spool.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';
import { CloudApi } from '../../src/uploader/cloud.js';
import { UndiciTransport } from '../../src/uploader/http.js';
import { RetryPacer } from '../../src/uploader/retry-pacer.js';
import { UploadPool } from '../../src/uploader/upload-pool.js';
import { Uploader } from '../../src/uploader/uploader.js';
import { makeSelfSigned } from '../helpers/tls.js';

/**
 * The uploader over the production undici transport, against a real node:http server on
 * 127.0.0.1 (port 0); each test installs the handler for the ingest route.
 */
type Handler = (req: IncomingMessage & { body: Buffer }, res: ServerResponse) => void | Promise<void>;
let handler: Handler = (_req, res) => {
  res.writeHead(500).end('no handler');
};
const sockets = new Set<Socket>();
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  await handler(Object.assign(req, { body: Buffer.concat(chunks) }), res);
});
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
let CLOUD = '';
const transports: UndiciTransport[] = [];
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  CLOUD = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const s of sockets) s.destroy();
});
afterAll(() => new Promise((r) => server.close(r)));

function ingest(h: Handler): void {
  handler = (req, res) => {
    expect(req.url).toBe('/api/stream/ingest/cam1');
    // The pacer's probe after a 5xx: the ingest serves (any answer but a 5xx), so backoff applies.
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    return h(req, res);
  };
}

async function setup(options: { maxBytes?: number; cloud?: string } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'uploader-test-'));
  const bus = new EventBus();
  const events: StampedEvent[] = [];
  bus.on((e) => events.push(e));
  const emit = bus.forCamera('cam1');
  const spool = await Spool.create({ root, cameraId: 'cam1', maxBytes: options.maxBytes ?? 1e9, emit });
  const auth: RelayError[] = [];
  const transport = new UndiciTransport({ connectTimeoutMs: 2000 });
  transports.push(transport);
  const uploader = new Uploader({
    spool,
    api: new CloudApi(options.cloud ?? CLOUD, 'secret-token', 'cam1'),
    transport,
    uploadTimeoutMs: 2000,
    pool: new UploadPool({ concurrency: 1, order: 'fifo', perCameraLimit: 1 }),
    retry: new RetryPacer({
      backoff: { baseMs: 1, capMs: 5, retryAfterCapMs: 20 },
      probeIntervalMs: 1,
      probeJitterMs: 0,
    }),
    emit,
    onFatal: (e) => auth.push(e),
  });
  let seq = spool.nextSequence;
  /** Close a segment of `bytes` (the spool offers it to the uploader); `vanish` deletes its file (behind the relay's back). */
  const close = async (bytes = 1000, vanish = false) => {
    const name = segmentName(seq++);
    writeFileSync(join(spool.dir, name), Buffer.alloc(bytes, 0x47));
    const record = await spool.addClosed({ name, start: new Date('2026-11-22T10:00:00Z'), durationS: 2 });
    if (vanish) rmSync(join(spool.dir, name));
    return record!;
  };
  return { root, spool, uploader, events, auth, close };
}

describe('Uploader (request/response handling, undici against a real local server)', () => {
  it('posts each segment with the contract headers and deletes it on 2xx', async () => {
    const seen: IncomingHttpHeaders[] = [];
    ingest((req, res) => {
      seen.push(req.headers);
      expect(req.method).toBe('POST');
      expect(req.body.byteLength).toBe(1000);
      res.writeHead(204).end();
    });
    const { spool, uploader, close } = await setup();
    const record = await close();
    expect(await uploader.drain(5000)).toBe(true);
    const h = seen[0]!;
    expect(h['x-api-key']).toBe('secret-token');
    expect(h['content-type']).toBe('video/mp2t');
    expect(h['content-length']).toBe('1000');
    expect(h['idempotency-key']).toBe(record.idempotencyKey);
    expect(h['x-segment-sequence']).toBe(String(record.sequence));
    expect(h['x-segment-start']).toBe('2026-11-22T10:00:00.000Z');
    expect(h['x-segment-duration']).toBe('2');
    expect(h['x-segment-gap']).toBeUndefined();
    expect(spool.pendingCount).toBe(0);
    expect(readdirSync(spool.dir)).toEqual(['journal.jsonl']);
  });

  it('retries a transient failure with the same idempotency key until it is accepted', async () => {
    const keys: (string | string[] | undefined)[] = [];
    let calls = 0;
    ingest((req, res) => {
      keys.push(req.headers['idempotency-key']);
      calls++;
      if (calls === 1) res.writeHead(503).end('busy');
      else if (calls === 2) res.writeHead(429, { 'retry-after': '0' }).end();
      else res.writeHead(204).end();
    });
    const { uploader, events, close } = await setup();
    await close();
    expect(await uploader.drain(5000)).toBe(true);
    expect(calls).toBe(3);
    expect(new Set(keys).size).toBe(1);
    expect(events.filter((e) => e.type === 'segment' && e.phase === 'retry')).toHaveLength(2);
  });

  it('moves a 4xx-rejected segment to rejected/, records the loss and announces it on the next segment', async () => {
    const gaps: (string | string[] | undefined)[] = [];
    let calls = 0;
    ingest((req, res) => {
      calls++;
      gaps.push(req.headers['x-segment-gap']);
      if (calls === 1) res.writeHead(400).end('bad segment');
      else res.writeHead(204).end();
    });
    const { root, uploader, close, spool } = await setup();
    const first = await close();
    await close();
    expect(await uploader.drain(5000)).toBe(true);
    expect(gaps[1]).toBe(
      `seq=${first.sequence}-${first.sequence}; start=2026-11-22T10:00:00.000Z; end=2026-11-22T10:00:02.000Z; reason=rejected`,
    );
    expect(spool.gaps()).toEqual([]);
    const rejected = readdirSync(join(root, REJECTED_DIR, 'cam1'));
    expect(rejected).toEqual([first.name, `${first.name}.json`]);
    expect(
      JSON.parse(readFileSync(join(root, REJECTED_DIR, 'cam1', `${first.name}.json`), 'utf8')),
    ).toMatchObject({
      status: 400,
      body: 'bad segment',
    });
    const loss = JSON.parse(readFileSync(join(root, LOSS_LEDGER_FILE), 'utf8').trim());
    expect(loss).toMatchObject({ camera: 'cam1', seqFrom: first.sequence, reason: 'rejected', bytes: 1000 });
  });

  it('reports 401 as an auth failure and keeps the segment', async () => {
    ingest((_req, res) => {
      res.writeHead(401).end();
    });
    const { uploader, auth, close, spool } = await setup();
    await close();
    await uploader.drain(5000);
    expect(auth[0]).toBeInstanceOf(AuthError);
    expect(auth[0]!.message).toMatch(/check the API key/);
    expect(auth[0]!.message).not.toContain('secret-token');
    expect(spool.pendingCount).toBe(1);
  });

  it('evicts the oldest pending segment when the spool bound is exceeded, loudly', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    ingest(async (_req, res) => {
      await gate;
      res.writeHead(204).end();
    });
    const { uploader, events, close, spool } = await setup({ maxBytes: 2500 });
    const inFlight = await close();
    const second = await close();
    await close();
    await close(); // 4000 bytes > 2500: the oldest not in flight goes
    const evicted = events.filter((e) => e.type === 'segment' && e.phase === 'evicted');
    expect(evicted.map((e) => (e as { sequence: number }).sequence)).toEqual([
      second.sequence,
      second.sequence + 1,
    ]);
    expect(existsSync(spool.pathOf(inFlight))).toBe(true);
    release();
    expect(await uploader.drain(5000)).toBe(true);
    expect(spool.gaps()).toEqual([]);
  });

  it('keeps the key out of rejected/ when the ingest echoes it back', async () => {
    ingest((req, res) => {
      const key = String(req.headers['x-api-key']);
      res.writeHead(422, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: 'bad segment',
          echo: { 'x-api-key': key, api_key: 'other-key-77' },
          note: `got ${key}`,
        }),
      );
    });
    const { root, uploader, events, close } = await setup();
    const first = await close();
    expect(await uploader.drain(5000)).toBe(true);
    const note = readFileSync(join(root, REJECTED_DIR, 'cam1', `${first.name}.json`), 'utf8');
    expect(JSON.parse(note)).toMatchObject({ status: 422 });
    expect(note).toContain('bad segment');
    expect(note).not.toContain('secret-token');
    // Anything that looks like a key is masked too, whichever key it is.
    expect(note).not.toContain('other-key-77');
    expect(JSON.stringify(events)).not.toContain('secret-token');
  });

  it('drops a segment whose file is gone, and only that: the next one is delivered', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sent: number[] = [];
    ingest(async (req, res) => {
      sent.push(Number(req.headers['x-segment-sequence']));
      await gate;
      res.writeHead(204).end();
    });
    const { spool, uploader, events, close } = await setup();
    // The camera's one slot is taken by the first segment's request.
    const first = await close();
    // Closed and journaled, then deleted while it waits its turn.
    const gone = await close(1000, true);
    const last = await close();
    release();
    expect(await uploader.drain(5000)).toBe(true);
    expect(sent).toEqual([first.sequence, last.sequence]);
    expect(spool.pendingCount).toBe(0);
    const dropped = events.filter((e) => e.type === 'segment' && e.phase === 'evicted');
    expect(dropped).toMatchObject([{ sequence: gone.sequence, reason: 'unreadable' }]);
  });

  it('a local failure is said once and the segment is tried again in this run, not left for the next', async () => {
    const keys: string[] = [];
    ingest((req, res) => {
      keys.push(String(req.headers['idempotency-key']));
      res.writeHead(204).end();
    });
    const { spool, uploader, events, close } = await setup();
    // The first attempt fails locally before anything is sent (the spool's disk), later ones work.
    const gaps = spool.gaps.bind(spool);
    let failures = 0;
    spool.gaps = () => {
      if (failures++ === 0) throw new Error('EIO: i/o error, read');
      return gaps();
    };
    const record = await close();
    expect(await uploader.drain(10_000)).toBe(true);
    expect(spool.pendingCount).toBe(0);
    expect(keys).toEqual([record.idempotencyKey]);
    const errors = events.filter((e) => e.type === 'error' && e.code === 'ERR_UPLOAD');
    expect(errors).toHaveLength(1);
  });

  it('a delivery the spool cannot record is said once; drain and stop still wait for the record', async () => {
    ingest((req, res) => {
      req.resume();
      res.writeHead(204).end();
    });
    const { spool, uploader, events, close } = await setup();
    const settle = spool.delivered.bind(spool);
    let recorded = 0;
    let failures = 0;
    spool.delivered = async (...args) => {
      if (failures++ === 0) throw new Error('EIO: i/o error, write');
      await settle(...args);
      recorded++;
    };
    await close();
    await close();
    expect(await uploader.drain(10_000)).toBe(true);
    expect(recorded).toBe(1);
    const errors = events.filter((e) => e.type === 'error' && e.code === 'ERR_UPLOAD');
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toMatch(/delivered but the spool could not record it/);
  });

  it('stops on an untrusted TLS certificate (fatal, once, not retried) and keeps the segment', async () => {
    let requests = 0;
    const tls = createHttpsServer(makeSelfSigned(), (_req, res) => {
      requests++;
      res.writeHead(204).end();
    });
    tls.listen(0, '127.0.0.1');
    await once(tls, 'listening');
    try {
      const port = (tls.address() as AddressInfo).port;
      const { uploader, auth, events, close, spool } = await setup({ cloud: `https://127.0.0.1:${port}` });
      await close();
      await uploader.drain(5000);
      expect(auth).toHaveLength(1);
      expect(auth[0]).toBeInstanceOf(TlsError);
      expect(auth[0]!.exitCode).toBe(ExitCode.tls);
      expect(auth[0]!.message).toContain(
        `the ingest at 127.0.0.1:${port} cannot be verified (DEPTH_ZERO_SELF_SIGNED_CERT`,
      );
      expect(events.filter((e) => e.type === 'segment' && e.phase === 'retry')).toEqual([]);
      expect(requests).toBe(0);
      expect(spool.pendingCount).toBe(1);
    } finally {
      await new Promise((r) => tls.close(r));
    }
  });
});
