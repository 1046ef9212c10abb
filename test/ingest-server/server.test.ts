import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultSpecError, parseFaultSpec } from '../../src/ingest-server/faults.js';
import { IngestServer } from '../../src/ingest-server/server.js';

const TOKEN = 'ingest-test-token';
let server: IngestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(outDir = mkdtempSync(join(tmpdir(), 'ingest-'))) {
  server = await IngestServer.start({ port: 0, outDir, token: TOKEN });
  return server;
}

function post(s: IngestServer, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${s.url}/api/stream/ingest/cam1`, {
    method: 'POST',
    headers: { 'x-api-key': TOKEN, 'content-type': 'video/mp2t', ...headers },
    body,
    signal,
  });
}

describe('IngestServer', () => {
  it('registers a camera', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/api/cameras`, {
      method: 'POST',
      headers: { 'x-api-key': TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'cam1', name: 'n', source_url: '', metadata: {} }),
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(readFileSync(join(s.outDir, 'cam1', 'camera.json'), 'utf8')).id).toBe('cam1');
  });

  it('stores a segment with its ledger row and de-duplicates on Idempotency-Key, across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
    let s = await start(dir);
    const headers = {
      'idempotency-key': 'cam1:run:7',
      'x-segment-sequence': '7',
      'x-segment-start': '2026-11-22T10:00:00.000Z',
      'x-segment-duration': '2',
      'x-segment-gap':
        'seq=3-4; start=2026-11-22T09:59:50.000Z; end=2026-11-22T09:59:54.000Z; reason=evicted',
    };
    expect((await post(s, 'video-bytes', headers)).status).toBe(204);
    expect((await post(s, 'video-bytes', headers)).status).toBe(204);
    expect(s.stats()).toMatchObject({ accepted: 1, duplicates: 1, bytes: 11 });
    const [row] = s.accepted('cam1');
    expect(row).toMatchObject({
      sequence: 7,
      size: 11,
      status: 'accepted',
      duration: 2,
      gap: [
        {
          seq_from: 3,
          seq_to: 4,
          reason: 'evicted',
          start: '2026-11-22T09:59:50.000Z',
          end: '2026-11-22T09:59:54.000Z',
        },
      ],
    });
    expect(readFileSync(join(dir, 'cam1', row!.file!), 'utf8')).toBe('video-bytes');
    await s.close();
    s = await start(dir);
    expect((await post(s, 'video-bytes', headers)).status).toBe(204);
    expect(s.stats().duplicates).toBe(1);
    const ledger = readFileSync(join(dir, 'cam1', 'ledger.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ledger.map((r) => r.status)).toEqual(['accepted', 'duplicate', 'duplicate']);
    expect(readdirSync(join(dir, 'cam1')).filter((n) => n.endsWith('.ts'))).toHaveLength(1);
  });

  it('answers 401 to a wrong key, 415 to another type, 400 to an empty body, 204 to DELETE, 404 elsewhere', async () => {
    const s = await start();
    expect((await post(s, 'x', { 'x-api-key': 'wrong' })).status).toBe(401);
    expect((await post(s, 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(s, '')).status).toBe(400);
    const del = await fetch(`${s.url}/api/stream/ingest/cam1`, {
      method: 'DELETE',
      headers: { 'x-api-key': TOKEN },
    });
    expect(del.status).toBe(204);
    expect(s.stats().sessionEnds).toBe(1);
    expect((await fetch(`${s.url}/nope`, { headers: { 'x-api-key': TOKEN } })).status).toBe(404);
  });

  it('injects status faults, every-nth faults and Retry-After', async () => {
    const s = await start();
    s.faults.add({ kind: 'status', status: 429, count: 1, retryAfterS: 3 });
    const limited = await post(s, 'x');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    s.faults.add({ kind: 'every', n: 2, status: 500 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(s, 'x', { 'idempotency-key': `k${i}` })).status);
    expect(statuses).toEqual([204, 500, 204, 500]);
    expect(s.stats().faulted).toBe(3);
  });

  it('hangs a request until the client gives up, and resets connections mid-body', async () => {
    const s = await start();
    s.faults.add({ kind: 'hang', count: 1 });
    await expect(post(s, 'x', {}, AbortSignal.timeout(300))).rejects.toThrow(/abort|timeout/i);
    s.faults.add({ kind: 'reset', count: 1 });
    await expect(post(s, 'x'.repeat(100_000))).rejects.toThrow(/fetch failed/);
    expect(s.stats().faulted).toBe(2);
  });

  it('goes down (connections refused) and comes back on the same port', async () => {
    const s = await start();
    const port = s.port;
    await s.faults.down();
    await expect(post(s, 'x')).rejects.toThrow(/fetch failed/);
    await s.faults.up();
    expect(s.port).toBe(port);
    expect((await post(s, 'x')).status).toBe(204);
  });
});

describe('parseFaultSpec', () => {
  it.each([
    ['503x5', { kind: 'status', status: 503, count: 5 }],
    ['429x3:retry-after=2', { kind: 'status', status: 429, count: 3, retryAfterS: 2 }],
    ['401', { kind: 'status', status: 401, count: Number.POSITIVE_INFINITY }],
    ['401:after=30s', { kind: 'status', status: 401, count: Number.POSITIVE_INFINITY, afterMs: 30_000 }],
    ['every3:500', { kind: 'every', n: 3, status: 500 }],
    ['hangx2', { kind: 'hang', count: 2 }],
    ['resetx1', { kind: 'reset', count: 1 }],
    ['down:60s', { kind: 'down', forMs: 60_000 }],
    ['down', { kind: 'down' }],
  ])('%s', (spec, rule) => {
    expect(parseFaultSpec(spec)).toEqual(rule);
  });

  it.each(['explode', '503x', 'every0:500', '429:retry-after=soon', 'down:forever', 'hangx2:bogus=1'])(
    'rejects %s with a clear message',
    (spec) => {
      expect(() => parseFaultSpec(spec)).toThrow(FaultSpecError);
    },
  );
});
