import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/ingest-server/ledger.js';
import type { ServedRequest } from '../../src/ingest-server/server.js';
import { readLedger, streamedBody, TOKEN, useIngest } from './fixtures/ingest.js';

const ingest = useIngest();
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const segmentFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.ts'));

describe('registration', () => {
  it('answers 201 {id}, stores camera.json and records a register row', async () => {
    const s = await ingest.start();
    const registered = once(s, 'register');
    const payload = {
      id: 'cam-1',
      name: 'porch',
      source_url: '',
      metadata: { managed_by: 'trio-edge', ingest_transport: 'http_mpegts', source_type: 'rtsp' },
    };
    const res = await ingest.client().register(s, JSON.stringify(payload));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 'cam-1' });
    expect(JSON.parse(readFileSync(join(s.outDir, 'cam-1', 'camera.json'), 'utf8'))).toEqual(payload);
    const [entry] = (await registered) as [LedgerEntry];
    expect(entry).toMatchObject({
      event: 'register',
      status: 'accepted',
      http_status: 201,
      file: 'camera.json',
    });
    expect(readLedger(s.outDir)).toEqual([entry]);
    expect(s.stats()).toMatchObject({ registrations: 1, cameras: ['cam-1'] });
    expect(ingest.lines).toEqual(['cam cam-1 registered']);
  });

  it.each([
    ['bad json', 'not json', 'invalid json', 400],
    ['no id', '{}', 'missing or invalid id', 400],
    ['null', 'null', 'missing or invalid id', 400],
    ['a numeric id', '{"id":5}', 'missing or invalid id', 400],
    ['a path as id', '{"id":".."}', 'missing or invalid id', 400],
    [
      '70 kB',
      JSON.stringify({ id: 'cam-1', pad: 'x'.repeat(70_000) }),
      'registration body over 16384 bytes',
      413,
    ],
  ])('rejects %s', async (_label, body, error, status) => {
    const s = await ingest.start();
    const res = await ingest.client().register(s, body);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error });
    expect(readdirSync(s.outDir)).toEqual([]);
    expect(s.stats()).toMatchObject({ registrations: 0, rejected: 1 });
  });
});

describe('segment ingest', () => {
  it('streams a segment to disk under its sequence and key, with sha256 and a full ledger row', async () => {
    const s = await ingest.start();
    const body = randomBytes(300 * 1024);
    const key = 'cam-1:run-a:12';
    const gap =
      'seq=9-10; start=2026-11-22T09:59:40.000Z; end=2026-11-22T09:59:50.000Z; reason=evicted, ' +
      'seq=11; start=2026-11-22T09:59:50.000Z; end=2026-11-22T09:59:55.000Z; reason=rejected';
    const segment = once(s, 'segment');
    const res = await ingest.client().ingest(s, body, {
      headers: {
        'idempotency-key': key,
        'x-segment-sequence': '12',
        'x-segment-start': '2026-11-22T10:00:00.000Z',
        'x-segment-duration': '2.5',
        'x-segment-gap': gap,
        'x-segment-clock-jump': '-3.5',
      },
    });
    expect(res.status).toBe(204);

    const file = `000000012-${sha256(key).slice(0, 8)}.ts`;
    const expected: LedgerEntry = {
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown as string,
      camera: 'cam-1',
      event: 'segment',
      status: 'accepted',
      http_status: 204,
      size: body.length,
      sha256: sha256(body),
      file,
      first_pts: null, // random bytes hold no PES header
      idempotency_key: key,
      sequence: 12,
      start: '2026-11-22T10:00:00.000Z',
      duration: 2.5,
      gap: [
        {
          seq_from: 9,
          seq_to: 10,
          start: '2026-11-22T09:59:40.000Z',
          end: '2026-11-22T09:59:50.000Z',
          reason: 'evicted',
        },
        {
          seq_from: 11,
          seq_to: 11,
          start: '2026-11-22T09:59:50.000Z',
          end: '2026-11-22T09:59:55.000Z',
          reason: 'rejected',
        },
      ],
      clock_jump: -3.5,
    };
    expect(readLedger(s.outDir)).toEqual([expected]);
    expect((await segment)[0]).toEqual(expected);
    expect(s.accepted('cam-1')).toEqual([expected]);
    expect(s.accepted('other')).toEqual([]);
    expect(readFileSync(join(s.outDir, 'cam-1', file)).equals(body)).toBe(true);
    // Only the segment and the ledger: the temp file was renamed, not copied.
    expect(readdirSync(join(s.outDir, 'cam-1')).sort()).toEqual([file, 'ledger.jsonl']);
    expect(s.stats()).toMatchObject({ accepted: 1, bytes: body.length, cameras: ['cam-1'] });
    expect(ingest.lines).toEqual([
      'cam cam-1 seq 12  300.0 KB  accepted  gap 9-10 evicted, 11-11 rejected  clock jump -3.5 s',
    ]);
  });

  it('names segments without a sequence by their arrival order', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    expect((await client.ingest(s, 'first')).status).toBe(204);
    expect((await client.ingest(s, 'second')).status).toBe(204);
    const rows = s.accepted();
    expect(rows.map((r) => r.file)).toEqual([
      `a000000000-${sha256(sha256('first')).slice(0, 8)}.ts`,
      `a000000001-${sha256(sha256('second')).slice(0, 8)}.ts`,
    ]);
    expect(rows.map((r) => [r.sequence, r.idempotency_key])).toEqual([
      [null, null],
      [null, null],
    ]);
  });

  it('de-duplicates on Idempotency-Key: retries, concurrent retries, and after a restart', async () => {
    const outDir = ingest.tempDir();
    let s = await ingest.start({ outDir });
    const client = ingest.client();
    const headers = (seq: number) => ({
      'idempotency-key': `cam-1:run:${seq}`,
      'x-segment-sequence': String(seq),
    });

    expect((await client.ingest(s, 'seg-7', { headers: headers(7) })).status).toBe(204);
    expect((await client.ingest(s, 'seg-7', { headers: headers(7) })).status).toBe(204);
    const racing = await Promise.all([1, 2, 3].map(() => client.ingest(s, 'seg-8', { headers: headers(8) })));
    expect(racing.map((r) => r.status)).toEqual([204, 204, 204]);
    expect(s.stats()).toMatchObject({ accepted: 2, duplicates: 3 });
    // The same key from another camera names another segment.
    expect((await client.ingest(s, 'seg-7', { headers: headers(7), camera: 'cam-2' })).status).toBe(204);
    expect(s.stats().accepted).toBe(3);

    await s.close();
    s = await ingest.start({ outDir });
    expect((await client.ingest(s, 'seg-7', { headers: headers(7) })).status).toBe(204);
    expect((await client.ingest(s, 'seg-9', { headers: headers(9) })).status).toBe(204);
    expect(s.stats()).toMatchObject({ accepted: 1, duplicates: 1 });

    const rows = readLedger(outDir);
    expect(rows.map((r) => [r.sequence, r.status])).toEqual([
      [7, 'accepted'],
      [7, 'duplicate'],
      [8, 'accepted'],
      [8, 'duplicate'],
      [8, 'duplicate'],
      [7, 'duplicate'],
      [9, 'accepted'],
    ]);
    expect(rows.filter((r) => r.status === 'duplicate').every((r) => r.file === null)).toBe(true);
    expect(segmentFiles(join(outDir, 'cam-1'))).toHaveLength(3);
  });

  it('recovers from a crash: removes stale temp files and reads past a torn ledger line', async () => {
    const outDir = ingest.tempDir();
    mkdirSync(join(outDir, 'cam-1'));
    writeFileSync(join(outDir, 'cam-1', '.incoming-deadbeef'), 'half a body');
    const before = { ts: '2026-11-22T10:00:00.000Z', camera: 'cam-1', event: 'segment', status: 'accepted' };
    writeFileSync(
      join(outDir, 'cam-1', 'ledger.jsonl'),
      `${JSON.stringify({ ...before, idempotency_key: 'old', sequence: 1 })}\n{"ts":"2026-11-22T10:00:0`,
    );
    const s = await ingest.start({ outDir });
    expect(existsSync(join(outDir, 'cam-1', '.incoming-deadbeef'))).toBe(false);
    const client = ingest.client();
    expect((await client.ingest(s, 'again', { headers: { 'idempotency-key': 'old' } })).status).toBe(204);
    expect((await client.ingest(s, 'new', { headers: { 'idempotency-key': 'new' } })).status).toBe(204);
    expect(s.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
    const lines = readFileSync(join(outDir, 'cam-1', 'ledger.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines.slice(2).map((l) => JSON.parse(l).status)).toEqual(['duplicate', 'accepted']);
  });

  it('answers 415 to another type, 400 to an empty body, 413 over the limit, each with a rejected row', async () => {
    const s = await ingest.start({ maxBodyBytes: 1000 });
    const client = ingest.client();
    const plain = await client.ingest(s, 'x', { headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect(await plain.json()).toEqual({ error: 'expected Content-Type: video/mp2t' });
    expect((await client.ingest(s, '')).status).toBe(400);
    expect((await client.ingest(s, 'x'.repeat(5000))).status).toBe(413); // Content-Length says so
    expect((await client.ingest(s, streamedBody(50_000))).status).toBe(413); // found out midway
    expect(
      (await client.ingest(s, 'x'.repeat(1000), { headers: { 'content-type': 'Video/MP2T; x=1' } })).status,
    ).toBe(204);

    expect(readLedger(s.outDir).map((r) => [r.status, r.http_status])).toEqual([
      ['rejected', 415],
      ['rejected', 400],
      ['rejected', 413],
      ['rejected', 413],
      ['accepted', 204],
    ]);
    expect(readdirSync(join(s.outDir, 'cam-1')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(s.stats()).toMatchObject({ accepted: 1, rejected: 4 });
    expect(ingest.lines[0]).toBe('cam cam-1 seq -  0.0 KB  rejected 415');
  });

  it('records DELETE as a session end, answers 404 to unknown routes and 400 to a bad camera id', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    const ended = once(s, 'session_end');
    expect((await client.send(s, 'DELETE', '/api/stream/ingest/cam-1')).status).toBe(204);
    expect((await ended)[0]).toMatchObject({ event: 'session_end', status: 'accepted', http_status: 204 });
    expect(readLedger(s.outDir).map((r) => r.event)).toEqual(['session_end']);
    expect(s.stats().sessionEnds).toBe(1);

    for (const [method, path] of [
      ['GET', '/api/cameras'],
      ['POST', '/api/stream/ingest/cam-1/extra'],
      ['GET', '/api/stream/ingest/cam-1'],
      ['GET', '/nope'],
      ['POST', '/'],
    ] as const) {
      const res = await client.send(s, method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      await res.arrayBuffer();
    }
    expect((await client.send(s, 'DELETE', '/api/stream/ingest/a%2Fb')).status).toBe(400);
    expect((await client.send(s, 'DELETE', '/api/stream/ingest/.hidden')).status).toBe(400);
    expect((await client.send(s, 'DELETE', '/api/stream/ingest/%E0%A4%A')).status).toBe(400);
    expect(readdirSync(s.outDir)).toEqual(['cam-1']);
  });

  it('answers a generic 500 when it cannot store (the reason only in its log), and keeps serving', async () => {
    const s = await ingest.start();
    writeFileSync(join(s.outDir, 'cam-file'), 'not a folder');
    const client = ingest.client();
    const res = await client.ingest(s, 'x', { camera: 'cam-file' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
    expect(ingest.lines).toEqual([
      `ingest error: ${join(s.outDir, 'cam-file')} is not a directory of ours (not a directory): refusing to store there`,
    ]);
    expect((await client.ingest(s, 'x')).status).toBe(204);
  });
});

describe('API key', () => {
  it('answers 401 on every endpoint without the right key, and never stores or logs the key', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    const wrong = { 'x-api-key': 'wrong' };
    const answers = [
      await client.register(s, JSON.stringify({ id: 'cam-1' }), wrong),
      await client.ingest(s, 'x', { headers: wrong }),
      await client.send(s, 'DELETE', '/api/stream/ingest/cam-1', wrong),
      await client.send(s, 'GET', '/nope', wrong),
      await client.send(s, 'DELETE', '/api/stream/ingest/cam-1', { 'x-api-key': `${TOKEN}x` }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid api key' });
    }
    const noKey = await fetch(`${s.url}/api/stream/ingest/cam-1`, { method: 'DELETE' });
    expect(noKey.status).toBe(401);
    expect(readdirSync(s.outDir)).toEqual([]); // unauthenticated requests write nothing

    await client.register(s, JSON.stringify({ id: 'cam-1' }));
    await client.ingest(s, 'x', { headers: { 'idempotency-key': 'k', 'x-segment-sequence': '1' } });
    const stored = readdirSync(join(s.outDir, 'cam-1')).map((f) =>
      readFileSync(join(s.outDir, 'cam-1', f), 'utf8'),
    );
    expect(stored.join('\n')).not.toContain(TOKEN);
    expect(ingest.lines.join('\n')).not.toContain(TOKEN);
    expect(s.stats().rejected).toBe(6);
  });

  it('lets everything through when no token is configured', async () => {
    const s = await ingest.start({ token: undefined });
    const res = await fetch(`${s.url}/api/stream/ingest/cam-1`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp2t' },
      body: 'x',
    });
    expect(res.status).toBe(204);
  });
});

describe('observing the server', () => {
  it('announces every request, and waitFor resolves on the request that makes it true', async () => {
    const s = await ingest.start();
    const outcomes: ServedRequest[] = [];
    s.on('request', (o) => outcomes.push(o));
    const twoAccepted = s.waitFor((st) => st.accepted >= 2, 5_000);
    const client = ingest.client();
    await client.statuses(s, 2);
    await twoAccepted;
    await client.send(s, 'GET', '/nope');
    expect(outcomes.map((o) => [o.route, o.outcome, o.httpStatus])).toEqual([
      ['ingest', 'accepted', 204],
      ['ingest', 'accepted', 204],
      ['other', 'not_found', 404],
    ]);
    await expect(s.waitFor((st) => st.accepted >= 5, 50)).rejects.toThrow(
      /condition not met within 50 ms; stats \{"accepted":2,/,
    );
  });

  it('rejects bad options with a TypeError naming the option', async () => {
    await expect(ingest.start({ port: 70_000 })).rejects.toThrow(/option port: 70000 is not a port number/);
    await expect(ingest.start({ maxBodyBytes: 0 })).rejects.toThrow(/option maxBodyBytes: 0/);
    await expect(ingest.start({ faults: [{ kind: 'status', status: 200, count: 1 }] })).rejects.toThrow(
      /fault rule status: status 200 is not 400–599/,
    );
  });
});

describe('read-rate limit', () => {
  it('reads bodies no faster than the limit, shared by all connections, and stores them whole', async () => {
    const s = await ingest.start({ readRateBytesPerS: 1_000_000 });
    const bodies = [randomBytes(200_000), randomBytes(200_000)];
    const began = performance.now();
    const answers = await Promise.all(
      bodies.map((body, i) =>
        ingest.client().ingest(s, body, { headers: { 'x-segment-sequence': String(i) } }),
      ),
    );
    // A lower bound only: 400 kB through a 1 MB/s link cannot take less than 0.4 s.
    expect(performance.now() - began).toBeGreaterThanOrEqual(380);
    expect(answers.map((r) => r.status)).toEqual([204, 204]);
    expect(
      s
        .accepted()
        .map((row) => row.sha256)
        .sort(),
    ).toEqual(bodies.map((b) => sha256(b)).sort());
  });

  it('rejects a rate that is not a positive number', async () => {
    await expect(ingest.start({ readRateBytesPerS: 0 })).rejects.toThrow(
      'ingest-server option readRateBytesPerS: 0 is not a rate > 0 bytes/s',
    );
  });
});
