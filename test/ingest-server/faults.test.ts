import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultInjector, type FaultRule, parseFaultSpec } from '../../src/ingest-server/faults.js';
import type { ServedRequest } from '../../src/ingest-server/server.js';
import { failureCode, readLedger, useIngest } from './fixtures/ingest.js';

const ingest = useIngest();

describe('faults on a real server', () => {
  it('answers a burst of 503s, then lets requests through again', async () => {
    const s = await ingest.start();
    const outcomes: ServedRequest[] = [];
    s.on('request', (o) => outcomes.push(o));
    s.faults.add({ kind: 'status', status: 503, count: 3 });
    expect(await ingest.client().statuses(s, 5)).toEqual([503, 503, 503, 204, 204]);
    expect(s.faults.pending()).toEqual([]);
    expect(outcomes.map((o) => [o.outcome, o.fault, o.httpStatus])).toEqual([
      ['fault', 'status', 503],
      ['fault', 'status', 503],
      ['fault', 'status', 503],
      ['accepted', null, 204],
      ['accepted', null, 204],
    ]);
    const rows = readLedger(s.outDir);
    expect(rows.map((r) => [r.status, r.http_status, r.idempotency_key])).toEqual([
      ['fault', 503, 'k0'],
      ['fault', 503, 'k1'],
      ['fault', 503, 'k2'],
      ['accepted', 204, 'k3'],
      ['accepted', 204, 'k4'],
    ]);
    expect(rows[0]!.size).toBe('segment 0'.length); // the body was read before answering
    expect(s.stats()).toMatchObject({ faulted: 3, accepted: 2 });
    expect(ingest.lines[0]).toBe('cam cam-1 seq -  0.0 KB  fault 503');
  });

  it('sends Retry-After with a 429', async () => {
    const s = await ingest.start();
    s.faults.add(parseFaultSpec('429x1:retry-after=2'));
    const res = await ingest.client().ingest(s, 'x');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({ error: 'injected fault 429' });
  });

  it('faults every n-th request until cleared', async () => {
    const s = await ingest.start();
    s.faults.add({ kind: 'every', n: 3, status: 500 });
    const client = ingest.client();
    expect(await client.statuses(s, 6, 'a')).toEqual([204, 204, 500, 204, 204, 500]);
    expect(s.faults.pending()).toEqual([{ kind: 'every', n: 3, status: 500 }]);
    s.faults.clear();
    expect(await client.statuses(s, 3, 'b')).toEqual([204, 204, 204]);
  });

  it('fails one camera ingest path with camera=, the others pass', async () => {
    const s = await ingest.start({ faults: [parseFaultSpec('503:camera=cam-2')] });
    const client = ingest.client();
    const post = async (camera: string, key: string) => {
      const res = await client.ingest(s, key, { camera, headers: { 'idempotency-key': key } });
      await res.arrayBuffer();
      return res.status;
    };
    expect([await post('cam-1', 'a'), await post('cam-2', 'b'), await post('cam-3', 'c')]).toEqual([
      204, 503, 204,
    ]);
    s.faults.clear();
    expect(await post('cam-2', 'b')).toBe(204);
    expect(s.accepted().map((r) => r.camera)).toEqual(['cam-1', 'cam-3', 'cam-2']);
  });

  it('answers 401 from now on, as a bad key would', async () => {
    const s = await ingest.start({ faults: [parseFaultSpec('401')] });
    const client = ingest.client();
    const res = await client.ingest(s, 'x');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid api key' });
    expect(await client.statuses(s, 3)).toEqual([401, 401, 401]);
    expect(s.faults.pending()).toEqual([{ kind: 'status', status: 401, count: Number.POSITIVE_INFINITY }]);
  });

  it('hangs: reads the whole body and never answers, so the client deadline fires', async () => {
    const s = await ingest.start();
    s.faults.add({ kind: 'hang', count: 1 });
    const body = 'y'.repeat(200_000);
    const hung = s.waitFor((st) => st.faulted === 1, 5_000);
    const client = ingest.client();
    const code = failureCode(client.ingest(s, body, { signal: AbortSignal.timeout(300) }));
    await hung; // the server has read it all and holds the socket…
    expect(await code).toBe('TimeoutError'); // …until the client gives up
    expect(readLedger(s.outDir)).toMatchObject([{ status: 'fault', http_status: 0, size: body.length }]);
    expect(ingest.lines).toEqual(['cam cam-1 seq -  195.3 KB  fault hang']);
    expect((await client.ingest(s, 'next')).status).toBe(204);
  });

  it('resets the connection once part of the body has arrived', async () => {
    const s = await ingest.start();
    s.faults.add({ kind: 'reset', count: 1 });
    const body = Buffer.alloc(4 * 1024 * 1024, 0x47);
    const client = ingest.client();
    expect(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']).toContain(await failureCode(client.ingest(s, body)));
    const [row] = readLedger(s.outDir);
    expect(row).toMatchObject({ status: 'fault', http_status: 0 });
    expect(row!.size).toBeGreaterThan(0);
    expect(row!.size).toBeLessThan(body.length);
    expect((await client.ingest(s, 'next')).status).toBe(204);
  });

  it('goes down (connections refused, open ones dropped) and comes back on the same port', async () => {
    const s = await ingest.start();
    const port = s.port;
    s.faults.add({ kind: 'hang', count: 1 });
    const hungClient = ingest.client();
    const hung = failureCode(hungClient.ingest(s, 'held'));
    await s.waitFor((st) => st.faulted === 1, 5_000);

    const wentDown = once(s, 'down');
    await s.faults.down();
    await wentDown;
    expect(s.listening).toBe(false);
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(await hung);
    expect(await failureCode(ingest.client().ingest(s, 'x'))).toBe('ECONNREFUSED');

    await s.faults.up();
    expect(s.listening).toBe(true);
    expect(s.port).toBe(port);
    expect((await ingest.client().ingest(s, 'x')).status).toBe(204);
  });

  it('comes back by itself after a timed down', async () => {
    const s = await ingest.start();
    const port = s.port;
    const wentDown = once(s, 'down');
    const cameUp = once(s, 'up');
    s.faults.add(parseFaultSpec('down:150ms'));
    await wentDown;
    expect(await failureCode(ingest.client().ingest(s, 'x'))).toBe('ECONNREFUSED');
    await cameUp;
    expect(s.port).toBe(port);
    expect((await ingest.client().ingest(s, 'x')).status).toBe(204);
  });

  it('stays down, saying why, when its port was taken meanwhile', async () => {
    let failed!: (line: string) => void;
    const failure = new Promise<string>((resolve) => {
      failed = resolve;
    });
    const s = await ingest.start({ log: (line) => line.includes('schedule failed') && failed(line) });
    await s.faults.down();
    const squatter = createServer();
    squatter.listen(s.port, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      await s.faults.down(1); // already down: only schedules the up(), which finds the port taken
      expect(await failure).toMatch(/fault schedule failed: listen EADDRINUSE/);
      await expect(s.faults.up()).rejects.toThrow(/EADDRINUSE/);
      expect(s.listening).toBe(false);
    } finally {
      await new Promise((done) => squatter.close(done));
    }
    await s.faults.up();
    expect((await ingest.client().ingest(s, 'x')).status).toBe(204);
  });

  it('close() returns at once with a hung request and an idle keep-alive connection open', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    expect((await client.ingest(s, 'keep-alive')).status).toBe(204); // leaves a pooled socket
    s.faults.add({ kind: 'hang', count: 1 });
    const hung = failureCode(ingest.client().ingest(s, 'held'));
    await s.waitFor((st) => st.faulted === 1, 5_000);
    await s.close();
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(await hung);
    expect(s.listening).toBe(false);
    await s.faults.up(); // a late up() after close() must not listen again
    expect(s.listening).toBe(false);
  });
});

describe('FaultInjector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const control = () => ({ stop: vi.fn(async () => {}), start: vi.fn(async () => {}), onError: vi.fn() });
  const decide = (faults: FaultInjector, n: number) => Array.from({ length: n }, () => faults.next());

  it('applies rules in order, each consuming its count', () => {
    const faults = new FaultInjector(control());
    faults.add({ kind: 'status', status: 503, count: 2 });
    faults.add({ kind: 'hang', count: 1 });
    faults.add({ kind: 'status', status: 429, count: 1, retryAfterS: 5 });
    expect(faults.pending()).toHaveLength(3);
    faults.next();
    expect(faults.pending()[0]).toEqual({ kind: 'status', status: 503, count: 1 });
    expect(decide(faults, 4)).toEqual([
      { kind: 'status', status: 503 },
      { kind: 'hang' },
      { kind: 'status', status: 429, retryAfterS: 5 },
      { kind: 'pass' },
    ]);
    expect(faults.pending()).toEqual([]);
  });

  it('passes the requests an every-rule spares on to the rules behind it', () => {
    const faults = new FaultInjector(control());
    faults.add({ kind: 'every', n: 2, status: 500 });
    faults.add({ kind: 'reset', count: 1 });
    expect(decide(faults, 4)).toEqual([
      { kind: 'reset' },
      { kind: 'status', status: 500 },
      { kind: 'pass' },
      { kind: 'status', status: 500 },
    ]);
  });

  it('applies a camera= rule to that camera only, counting only its requests', () => {
    const faults = new FaultInjector(control());
    faults.add(parseFaultSpec('503x2:camera=yard'));
    faults.add({ kind: 'every', n: 2, status: 500, camera: 'door' });
    expect(faults.next('door')).toEqual({ kind: 'pass' });
    expect(faults.next('yard')).toEqual({ kind: 'status', status: 503 });
    expect(faults.next('door')).toEqual({ kind: 'status', status: 500 });
    expect(faults.next('front')).toEqual({ kind: 'pass' });
    expect(faults.next()).toEqual({ kind: 'pass' });
    expect(faults.pending()).toEqual([
      { kind: 'status', status: 503, count: 1, camera: 'yard' },
      { kind: 'every', n: 2, status: 500, camera: 'door' },
    ]);
    expect(faults.next('yard')).toEqual({ kind: 'status', status: 503 });
    expect(faults.next('yard')).toEqual({ kind: 'pass' });
  });

  it('starts a rule only afterMs after it was added', () => {
    vi.useFakeTimers();
    const faults = new FaultInjector(control());
    faults.add(parseFaultSpec('401:after=30s'));
    expect(faults.next()).toEqual({ kind: 'pass' });
    vi.advanceTimersByTime(10_000);
    expect(faults.pending()).toEqual([
      { kind: 'status', status: 401, count: Number.POSITIVE_INFINITY, afterMs: 20_000 },
    ]);
    vi.advanceTimersByTime(20_000);
    expect(decide(faults, 2)).toEqual([
      { kind: 'status', status: 401 },
      { kind: 'status', status: 401 },
    ]);
  });

  it('schedules a down, and brings the listener up after forMs', () => {
    vi.useFakeTimers();
    const listener = control();
    const faults = new FaultInjector(listener);
    faults.add({ kind: 'down', forMs: 5_000, afterMs: 1_000 });
    expect(faults.pending()).toEqual([{ kind: 'down', forMs: 5_000, afterMs: 1_000 }]);
    vi.advanceTimersByTime(1_000);
    expect(listener.stop).toHaveBeenCalledOnce();
    expect(faults.pending()).toEqual([]);
    faults.clear(); // does not strand the listener down
    vi.advanceTimersByTime(5_000);
    expect(listener.start).toHaveBeenCalledOnce();
  });

  it('clear() cancels scheduled downs; dispose() silences every timer and call', async () => {
    vi.useFakeTimers();
    const listener = control();
    const faults = new FaultInjector(listener);
    faults.add({ kind: 'down', afterMs: 1_000 });
    faults.clear();
    vi.advanceTimersByTime(2_000);
    expect(listener.stop).not.toHaveBeenCalled();

    await faults.down(1_000);
    expect(listener.stop).toHaveBeenCalledOnce();
    faults.dispose();
    vi.advanceTimersByTime(2_000);
    await faults.up();
    await faults.down();
    expect(listener.start).not.toHaveBeenCalled();
    expect(listener.stop).toHaveBeenCalledOnce();
  });

  it.each<[string, FaultRule, RegExp]>([
    ['a success status', { kind: 'status', status: 200, count: 1 }, /status 200 is not 400–599/],
    ['a zero count', { kind: 'hang', count: 0 }, /count 0 is not a whole number/],
    ['a fractional n', { kind: 'every', n: 1.5, status: 500 }, /n 1.5 is not a whole number/],
    ['a negative delay', { kind: 'reset', count: 1, afterMs: -1 }, /afterMs -1 is not a duration/],
    ['a NaN down', { kind: 'down', forMs: Number.NaN }, /forMs NaN is not a duration/],
    ['an unknown kind', { kind: 'explode' } as unknown as FaultRule, /unknown fault rule kind explode/],
  ])('rejects %s with a TypeError', (_label, rule, message) => {
    const faults = new FaultInjector(control());
    expect(() => faults.add(rule)).toThrow(TypeError);
    expect(() => faults.add(rule)).toThrow(message);
  });
});
