import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { TOKEN, useIngest } from './fixtures/ingest.js';

const ingest = useIngest();
/** The documented caps (README, local ingest): written out, so a change to them is a visible one. */
const MAX_NAME_CHARS = 256;
const MAX_REGISTER_BYTES = 16 * 1024;

/** Upper bound for "the server closes it": far above the real time, far below the body timeout. */
const CLOSE_WITHIN_MS = 5_000;

async function rawConnection(server: IngestServer) {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
  await Promise.race([once(socket, 'connect'), closed]);
  return { socket, closed, received: () => received };
}

/** Resolves 'closed' when it closes, 'open' once `ms` pass first (an upper bound, not a measure). */
function closedWithin(closed: Promise<'closed'>, ms: number): Promise<'closed' | 'open'> {
  let timer: NodeJS.Timeout | undefined;
  const open = new Promise<'open'>((resolve) => {
    timer = setTimeout(() => resolve('open'), ms);
  });
  return Promise.race([closed, open]).finally(() => clearTimeout(timer));
}

const cameraDirs = (s: IngestServer) => readdirSync(s.outDir).sort();

describe('registrations that would bloat the ingest', () => {
  it(`refuses a name over ${MAX_NAME_CHARS} characters with 400, and creates nothing`, async () => {
    const s = await ingest.start();
    const client = ingest.client();
    const res = await client.register(
      s,
      JSON.stringify({ id: 'cam-1', name: 'n'.repeat(MAX_NAME_CHARS + 1) }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: `name over ${MAX_NAME_CHARS} characters` });
    expect(cameraDirs(s)).toEqual([]);
    const named = await client.register(s, JSON.stringify({ id: 'cam-1', name: 'é'.repeat(MAX_NAME_CHARS) }));
    expect(named.status).toBe(201);
  });

  it('refuses deeply nested JSON with 400 and a 60 KB one with 413, before creating anything', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    const nested = (depth: number) =>
      `{"id":"cam-1","name":"x","metadata":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const deep = await client.register(s, nested(4_000));
    expect(deep.status).toBe(400);
    expect(await deep.json()).toEqual({ error: 'json nested deeper than 16 levels' });
    const big = await client.register(s, nested(30_000));
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: `registration body over ${MAX_REGISTER_BYTES} bytes` });
    expect(cameraDirs(s)).toEqual([]);
    // Brackets inside strings are text, not depth.
    expect(
      (await client.register(s, JSON.stringify({ id: 'cam-1', name: '[[[[[[[[[[[[[[[[[[[[' }))).status,
    ).toBe(201);
  });

  it('caps the cameras: a new one past --max-cameras gets 507 (kept and retried by the relay), known ones go on', async () => {
    const s = await ingest.start({ maxCameras: 2 });
    const client = ingest.client();
    expect((await client.register(s, JSON.stringify({ id: 'cam-a' }))).status).toBe(201);
    expect((await client.ingest(s, 'segment', { camera: 'cam-b' })).status).toBe(204);
    const third = await client.register(s, JSON.stringify({ id: 'cam-c' }));
    expect(third.status).toBe(507);
    expect(await third.json()).toEqual({ error: 'camera limit reached (--max-cameras 2)' });
    expect((await client.ingest(s, 'segment', { camera: 'cam-d' })).status).toBe(507);
    expect((await client.ingest(s, 'segment', { camera: 'cam-a' })).status).toBe(204);
    expect(cameraDirs(s)).toEqual(['cam-a', 'cam-b']);
    expect(s.stats().cameras).toEqual(['cam-a', 'cam-b']);
    // The cap holds across a restart: the cameras in --out count.
    await s.close();
    const again = await ingest.start({ outDir: s.outDir, maxCameras: 2 });
    expect((await client.ingest(again, 'segment', { camera: 'cam-e' })).status).toBe(507);
    expect(existsSync(join(s.outDir, 'cam-e'))).toBe(false);
  });
});

describe('the viewer camera list', () => {
  it('is paged with ?offset=&limit= and says how many there are', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    for (const id of ['cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5']) {
      expect((await client.register(s, JSON.stringify({ id, name: `name ${id}` }))).status).toBe(201);
    }
    const list = async (query: string) => {
      const res = await fetch(`${s.url}/viewer/api/cameras${query}`, { headers: { 'x-api-key': TOKEN } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const page = await list('?offset=1&limit=2');
    expect(page.status).toBe(200);
    expect([page.body.total, page.body.offset, page.body.limit]).toEqual([5, 1, 2]);
    expect((page.body.cameras as Array<{ id: string; name: string }>).map((c) => [c.id, c.name])).toEqual([
      ['cam-2', 'name cam-2'],
      ['cam-3', 'name cam-3'],
    ]);
    const all = await list('');
    expect([all.body.total, all.body.limit, (all.body.cameras as unknown[]).length]).toEqual([5, 50, 5]);
    expect((await list('?limit=0')).status).toBe(400);
    expect((await list('?limit=201')).body).toEqual({ error: 'limit must be a whole number from 1 to 200' });
    expect((await list('?offset=-1')).status).toBe(400);
  });
});

describe('connections', () => {
  it('closes the connection on a 401, without waiting for a body that trickles in', async () => {
    const s = await ingest.start();
    const { socket, closed, received } = await rawConnection(s);
    socket.write(
      'POST /api/stream/ingest/cam-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: video/mp2t\r\nContent-Length: 100000\r\n\r\nG',
    );
    // An attacker's trickle: one byte at a time, each well inside the body timeout.
    const drip = setInterval(() => socket.writable && socket.write('x', () => {}), 100);
    try {
      expect(await closedWithin(closed, CLOSE_WITHIN_MS)).toBe('closed');
    } finally {
      clearInterval(drip);
    }
    expect(received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(received()).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('drops connections past --max-connections, and serves those it holds', async () => {
    const s = await ingest.start({ maxConnections: 2 });
    const held = [await rawConnection(s), await rawConnection(s)];
    const extra = await rawConnection(s);
    expect(await closedWithin(extra.closed, CLOSE_WITHIN_MS)).toBe('closed');
    expect(extra.received()).toBe('');
    const first = held[0]!;
    first.socket.write(
      `POST /api/stream/ingest/cam-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${TOKEN}\r\nContent-Type: video/mp2t\r\nContent-Length: 1\r\n\r\nG`,
    );
    await s.waitFor((st) => st.accepted === 1, CLOSE_WITHIN_MS);
    expect(ingest.lines).toContain('ingest: dropping new connections: 2 open (--max-connections)');
    for (const c of held) c.socket.destroy();
  });
});
