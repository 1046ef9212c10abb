import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog, KEYS_KEPT } from '../../src/ingest-server/catalog.js';
import { newEntry } from '../../src/ingest-server/ledger.js';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { KEPT_GAPS, RECENT_ROWS, ViewerHistory } from '../../src/ingest-server/viewer/history.js';
import { classify } from '../../src/uploader/classify.js';
import { readLedger, TOKEN, useIngest } from './fixtures/ingest.js';

const ingest = useIngest();
/** Ten real MPEG-TS packets (1880 bytes). */
const SEGMENT = readFileSync(new URL('../camera/fixtures/two-frames.m2t', import.meta.url));

/** A raw TCP connection to the server, and when it was closed by the far end. */
async function rawConnection(server: IngestServer): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => {});
  // Not events.once: it would reject on the EPIPE of a write racing the server's close.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed };
}

const HEAD = `POST /api/stream/ingest/cam-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${TOKEN}\r\nContent-Type: video/mp2t\r\n`;

describe('timeouts', () => {
  it('closes connections whose request head trickles in, within the headers timeout', async () => {
    const s = await ingest.start({ headersTimeoutMs: 400 });
    const connections = await Promise.all(Array.from({ length: 20 }, () => rawConnection(s)));
    const drip = setInterval(() => {
      for (const { socket } of connections) if (socket.writable) socket.write('X-Slow: 1\r\n', () => {});
    }, 100);
    for (const { socket } of connections) socket.write(HEAD);
    try {
      // The client never stops dripping: only the server's headers timeout closes these.
      await Promise.all(connections.map((c) => c.closed));
      expect(connections.every(({ socket }) => socket.destroyed)).toBe(true);
    } finally {
      clearInterval(drip);
    }
  });

  it('drops a body that stops arriving, within the body timeout, with a ledger row', async () => {
    const s = await ingest.start({ bodyTimeoutMs: 400 });
    const { socket, closed } = await rawConnection(s);
    socket.write(`${HEAD}Content-Length: 100000\r\n\r\n`);
    socket.write(SEGMENT.subarray(0, 188));
    // The rest of the body never comes: the server closes, and says why in its ledger.
    await closed;
    await s.waitFor((st) => st.rejected === 1, 2_000);
    expect(readLedger(s.outDir).map((r) => [r.status, r.http_status])).toEqual([['rejected', 0]]);
  });

  it('still holds a hung request past every timeout: a hang fault answers never', async () => {
    const s = await ingest.start({ headersTimeoutMs: 200, requestTimeoutMs: 300, bodyTimeoutMs: 300 });
    s.faults.add({ kind: 'hang', count: 1 });
    const { socket, closed } = await rawConnection(s);
    socket.write(`${HEAD}Content-Length: ${SEGMENT.length}\r\n\r\n`);
    socket.write(SEGMENT);
    await s.waitFor((st) => st.faulted === 1, 2_000);
    const stillOpen = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1_200)),
    ]);
    expect(stillOpen).toBe(true);
    socket.destroy();
  });
});

describe('the MPEG-TS content check', () => {
  it('refuses zeros and text with 422 (a reject for the relay), stores nothing, accepts real TS', async () => {
    const s = await ingest.start({ checkContent: true });
    const client = ingest.client();
    const zeros = await client.ingest(s, new Uint8Array(256 * 1024));
    expect(zeros.status).toBe(422);
    // The relay's verdict on that answer: a reject (kept in its rejected/ folder), never a retry.
    expect(classify({ kind: 'response', status: zeros.status, body: '' })).toMatchObject({ class: 'reject' });
    expect(zeros.headers.get('connection')).toBe('close');
    expect(await zeros.json()).toEqual({ error: 'not MPEG-TS: expected a 0x47 sync byte every 188 bytes' });
    expect((await client.ingest(s, 'segment 1')).status).toBe(422);
    const ok = await client.ingest(s, SEGMENT, { headers: { 'x-segment-sequence': '3' } });
    expect(ok.status).toBe(204);
    expect(readLedger(s.outDir).map((r) => [r.status, r.http_status])).toEqual([
      ['rejected', 422],
      ['rejected', 422],
      ['accepted', 204],
    ]);
    expect(readLedger(s.outDir)[2]?.first_pts).toEqual(expect.any(Number));
    expect(readdirSync(join(s.outDir, 'cam-1')).filter((n) => n.endsWith('.ts'))).toHaveLength(1);
  });

  it('is on by default', async () => {
    const s = await ingest.start({ checkContent: undefined });
    expect((await ingest.client().ingest(s, 'not video')).status).toBe(422);
  });
});

describe('listening beyond loopback', () => {
  it('is refused without a token unless insecure is asked for', async () => {
    await expect(ingest.start({ host: '0.0.0.0', token: undefined })).rejects.toMatchObject({
      code: 'ERR_INGEST_EXPOSED',
      exitCode: 2,
      message: expect.stringMatching(
        /--host 0\.0\.0\.0 is reachable from other machines and no --token is set/,
      ),
    });
    expect((await ingest.start({ host: '0.0.0.0', token: undefined, insecure: true })).listening).toBe(true);
    expect((await ingest.start({ host: '0.0.0.0' })).listening).toBe(true);
    expect((await ingest.start({ host: '::1', token: undefined })).listening).toBe(true);
  });

  it("loopback is the relay's rule (src/config/loopback.ts): 127.0.0.0/8 in any spelling", async () => {
    expect((await ingest.start({ host: '127.0.0.2', token: undefined })).listening).toBe(true);
    expect((await ingest.start({ host: '::ffff:7f00:1', token: undefined })).listening).toBe(true);
  });
});

describe('--max-store-mb', () => {
  const storedBytes = (dir: string) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((n) => n.endsWith('.ts'))
      .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);

  it('keeps the stored segments under the limit, removing the oldest first across cameras', async () => {
    const max = SEGMENT.length * 3;
    const s = await ingest.start({ checkContent: true, maxStoreBytes: max });
    const client = ingest.client();
    for (let i = 0; i < 10; i++) {
      const camera = i % 2 === 0 ? 'cam-a' : 'cam-b';
      const headers = { 'x-segment-sequence': String(i), 'idempotency-key': `k${i}` };
      expect((await client.ingest(s, SEGMENT, { camera, headers })).status).toBe(204);
      expect(storedBytes(s.outDir)).toBeLessThanOrEqual(max);
    }
    const kept = (camera: string) => readdirSync(join(s.outDir, camera)).filter((n) => n.endsWith('.ts'));
    expect([...kept('cam-a'), ...kept('cam-b')].map((n) => Number(n.slice(0, 9))).sort()).toEqual([7, 8, 9]);
    const playlist = await (
      await fetch(`${s.url}/viewer/cameras/cam-a/playlist.m3u8`, { headers: { 'x-api-key': TOKEN } })
    ).text();
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:4\n'); // cam-a had 0 2 4 6 8: four rotated out

    // A restart with a smaller limit rotates what the last run left.
    await s.close();
    const again = await ingest.start({ outDir: s.outDir, maxStoreBytes: SEGMENT.length });
    expect(storedBytes(again.outDir)).toBeLessThanOrEqual(SEGMENT.length);
  });
});

describe('bounded memory', () => {
  it('caps the rows, gaps and keys it keeps', () => {
    const history = new ViewerHistory();
    const gap = { seq_from: 1, seq_to: 1, start: '', end: '', reason: 'evicted' };
    for (let i = 0; i < 2 * KEPT_GAPS; i++) {
      history.record(newEntry('cam', 'segment', 'accepted', 204, { sequence: i, gap: [gap] }));
    }
    expect(history.get('cam')?.recent).toHaveLength(RECENT_ROWS);
    expect(history.get('cam')?.gaps).toHaveLength(KEPT_GAPS);
    expect(history.get('cam')?.counts.accepted).toBe(2 * KEPT_GAPS);

    const catalog = new Catalog();
    for (let i = 0; i <= KEYS_KEPT; i++) {
      catalog.add(newEntry('cam', 'segment', 'accepted', 204, { idempotency_key: `k${i}` }));
    }
    expect([catalog.has('cam', 'k0'), catalog.has('cam', 'k1'), catalog.has('cam', `k${KEYS_KEPT}`)]).toEqual(
      [false, true, true],
    );
  });
});
