import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classify } from '../../src/uploader/classify.js';
import { UndiciTransport } from '../../src/uploader/http.js';
import { DEADLINE_CODE } from '../../src/uploader/transport.js';

/** The undici transport against a real node:http server on 127.0.0.1, port 0. */
let server: Server | undefined;
const sockets = new Set<Socket>();
const transport = new UndiciTransport({ connectTimeoutMs: 2000 });

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const file = join(mkdtempSync(join(tmpdir(), 'http-test-')), 'seg.ts');
writeFileSync(file, Buffer.alloc(64 * 1024, 0x47));

function post(url: string, timeoutMs = 500) {
  return transport.send({
    method: 'POST',
    url,
    headers: { 'content-type': 'video/mp2t' },
    body: { file, bytes: 64 * 1024 },
    timeoutMs,
  });
}

describe('UndiciTransport', () => {
  it('streams the file with its length and reads the answer', async () => {
    let received = 0;
    const url = await serve((req, res) => {
      req.on('data', (c: Buffer) => {
        received += c.length;
      });
      req.on('end', () => {
        res.writeHead(204).end();
      });
    });
    expect(await post(url)).toMatchObject({ kind: 'response', status: 204 });
    expect(received).toBe(64 * 1024);
  });

  it('gives up at the hard deadline when the server accepts and never answers', async () => {
    const url = await serve((req) => {
      req.resume(); // read the body, answer nothing
    });
    const outcome = await post(url, 300);
    expect(outcome).toMatchObject({ kind: 'error', code: DEADLINE_CODE });
    expect(classify(outcome).class).toBe('transient');
  });

  it('gives up at the deadline when the answer stalls half way (headers sent, body never ends)', async () => {
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
      });
    });
    expect(await post(url, 300)).toMatchObject({ kind: 'error', code: DEADLINE_CODE });
  });

  it('reports a reset connection as a transient error', async () => {
    const url = await serve((req) => {
      req.once('data', () => req.socket.destroy());
    });
    const outcome = await post(url);
    expect(outcome.kind).toBe('error');
    expect(classify(outcome).class).toBe('transient');
  });

  it('reports a refused connection as ECONNREFUSED', async () => {
    const url = await serve(() => {});
    await new Promise((r) => server!.close(r));
    server = undefined;
    expect(await post(url)).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
  });

  it('passes Retry-After through', async () => {
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(429, { 'retry-after': '3' }).end('slow down'));
    });
    const outcome = await post(url);
    expect(outcome).toMatchObject({ kind: 'response', status: 429, retryAfter: '3', body: 'slow down' });
    expect(classify(outcome)).toMatchObject({ class: 'transient', retryAfterMs: 3000 });
  });
});
