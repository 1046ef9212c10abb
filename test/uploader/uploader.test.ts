import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/errors.js';
import { LOSS_LEDGER_FILE, REJECTED_DIR, segmentName } from '../../src/spool/naming.js';
import { Spool } from '../../src/spool/spool.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';
import { CloudApi } from '../../src/uploader/cloud.js';
import { RetryPacer } from '../../src/uploader/retry-pacer.js';
import { Uploader } from '../../src/uploader/uploader.js';
import { FetchTransport } from '../helpers/fetch-transport.js';

const CLOUD = 'http://cloud.test';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function setup(options: { maxBytes?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'uploader-test-'));
  const bus = new EventBus();
  const events: StampedEvent[] = [];
  bus.on((e) => events.push(e));
  const emit = bus.forCamera('cam1');
  const spool = await Spool.create({ root, cameraId: 'cam1', maxBytes: options.maxBytes ?? 1e9, emit });
  const auth: AuthError[] = [];
  const uploader = new Uploader({
    spool,
    api: new CloudApi(CLOUD, 'secret-token', 'cam1'),
    transport: new FetchTransport(),
    uploadTimeoutMs: 2000,
    concurrency: 1,
    retry: new RetryPacer({
      backoff: { baseMs: 1, capMs: 5, retryAfterCapMs: 20 },
      probe: async () => true,
      probeIntervalMs: 1,
    }),
    emit,
    onAuthFailure: (e) => auth.push(e),
  });
  let seq = spool.nextSequence;
  const close = async (bytes = 1000) => {
    const name = segmentName(seq++);
    writeFileSync(join(spool.dir, name), Buffer.alloc(bytes, 0x47));
    const record = await spool.addClosed({ name, start: new Date('2026-11-22T10:00:00Z'), durationS: 2 });
    if (record) uploader.enqueue(record);
    return record!;
  };
  return { root, spool, uploader, events, auth, close };
}

describe('Uploader (request/response handling, msw)', () => {
  it('posts each segment with the contract headers and deletes it on 2xx', async () => {
    const seen: Headers[] = [];
    server.use(
      http.post(`${CLOUD}/api/stream/ingest/cam1`, async ({ request }) => {
        seen.push(request.headers);
        expect((await request.arrayBuffer()).byteLength).toBe(1000);
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { spool, uploader, close } = await setup();
    const record = await close();
    expect(await uploader.drain(5000)).toBe(true);
    const h = seen[0]!;
    expect(h.get('x-api-key')).toBe('secret-token');
    expect(h.get('content-type')).toBe('video/mp2t');
    expect(h.get('idempotency-key')).toBe(record.idempotencyKey);
    expect(h.get('x-segment-sequence')).toBe(String(record.sequence));
    expect(h.get('x-segment-start')).toBe('2026-11-22T10:00:00.000Z');
    expect(h.get('x-segment-duration')).toBe('2');
    expect(h.get('x-segment-gap')).toBeNull();
    expect(spool.pendingCount).toBe(0);
    expect(readdirSync(spool.dir)).toEqual(['journal.jsonl']);
  });

  it('retries a transient failure with the same idempotency key until it is accepted', async () => {
    const keys: (string | null)[] = [];
    let calls = 0;
    server.use(
      http.post(`${CLOUD}/api/stream/ingest/cam1`, ({ request }) => {
        keys.push(request.headers.get('idempotency-key'));
        calls++;
        if (calls === 1) return new HttpResponse('busy', { status: 503 });
        if (calls === 2) return new HttpResponse(null, { status: 429, headers: { 'retry-after': '0' } });
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { uploader, events, close } = await setup();
    await close();
    expect(await uploader.drain(5000)).toBe(true);
    expect(calls).toBe(3);
    expect(new Set(keys).size).toBe(1);
    expect(events.filter((e) => e.type === 'segment' && e.phase === 'retry')).toHaveLength(2);
  });

  it('moves a 4xx-rejected segment to rejected/, records the loss and announces it on the next segment', async () => {
    const gaps: (string | null)[] = [];
    let calls = 0;
    server.use(
      http.post(`${CLOUD}/api/stream/ingest/cam1`, ({ request }) => {
        calls++;
        gaps.push(request.headers.get('x-segment-gap'));
        return calls === 1
          ? new HttpResponse('bad segment', { status: 400 })
          : new HttpResponse(null, { status: 204 });
      }),
    );
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
    server.use(http.post(`${CLOUD}/api/stream/ingest/cam1`, () => new HttpResponse(null, { status: 401 })));
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
    server.use(
      http.post(`${CLOUD}/api/stream/ingest/cam1`, async () => {
        await gate;
        return new HttpResponse(null, { status: 204 });
      }),
    );
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
    expect(spool.has(inFlight.sequence)).toBe(true);
    release();
    expect(await uploader.drain(5000)).toBe(true);
    expect(spool.gaps()).toEqual([]);
  });
});
