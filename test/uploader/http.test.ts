import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { errors, MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { classify } from '../../src/uploader/classify.js';
import { trustedCas, UndiciTransport } from '../../src/uploader/http.js';
import { DEADLINE_CODE, type HttpTransport } from '../../src/uploader/transport.js';
import { makePki, makeSelfSigned } from '../helpers/tls.js';

/** The undici transport against a real node:http server on 127.0.0.1, port 0. */
let server: Server | undefined;
const sockets = new Set<Socket>();
const transport = new UndiciTransport({ connectTimeoutMs: 2000 });

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls?: { cert: string; key: string },
): Promise<string> {
  // node:https has the http server's surface for all this test uses.
  server = tls ? (createHttpsServer(tls, handler) as unknown as Server) : createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const file = join(mkdtempSync(join(tmpdir(), 'http-test-')), 'seg.ts');
writeFileSync(file, Buffer.alloc(64 * 1024, 0x47));

function post(url: string, timeoutMs = 500, via: HttpTransport = transport, body = file) {
  return via.send({
    method: 'POST',
    url,
    headers: { 'content-type': 'video/mp2t' },
    body: { file: body, bytes: 64 * 1024 },
    timeoutMs,
  });
}

const accept = (req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
};

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

  it('sends every byte of each file, several at once and in turn, whatever the socket does', async () => {
    // Read buffers are reused between chunks and requests: a buffer overwritten while the socket
    // still held it would show here as a wrong digest. A server that reads slowly keeps the
    // socket's buffer full; TLS copies differently from plain TCP: both.
    const dir = mkdtempSync(join(tmpdir(), 'http-digest-'));
    const files = [1, 7, 33, 400].map((chunks, i) => {
      const data = randomBytes(chunks * 64 * 1024 - i * 1000);
      const path = join(dir, `f${i}.ts`);
      writeFileSync(path, data);
      return { path, digest: createHash('sha256').update(data).digest('hex') };
    });
    for (const tls of [undefined, makeSelfSigned()]) {
      const digests: string[] = [];
      const url = await serve((req, res) => {
        const hash = createHash('sha256');
        let turn = 0;
        req.on('data', (c: Buffer) => {
          hash.update(c);
          // Now and then a pause long enough for the kernel's buffers to fill up: the sender's
          // socket then holds chunks it has not written and must wait for drain.
          if (++turn % 40 === 0) {
            req.pause();
            setTimeout(() => req.resume(), 30);
          }
        });
        req.on('end', () => {
          digests.push(hash.digest('hex'));
          res.writeHead(204).end();
        });
      }, tls);
      const via = tls ? new UndiciTransport({ connectTimeoutMs: 2000, extraCa: [tls.cert] }) : transport;
      const send = (f: { path: string }) =>
        via.send({
          method: 'POST',
          url,
          headers: {},
          body: { file: f.path, bytes: 0 },
          timeoutMs: 10_000,
        });
      const outcomes = [...(await Promise.all(files.map(send))), ...(await Promise.all(files.map(send)))];
      for (const outcome of outcomes) expect(outcome).toMatchObject({ kind: 'response', status: 204 });
      expect(digests.sort()).toEqual([...files, ...files].map((f) => f.digest).sort());
      if (via !== transport) await via.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server!.close(r));
      server = undefined;
    }
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

  it('takes a deadline that is not a whole number of ms (what is left of a stop budget)', async () => {
    // AbortSignal.timeout() throws a RangeError for 874.37: the session DELETE at a stop failed so.
    const url = await serve(accept);
    expect(await post(url, 874.37)).toMatchObject({ kind: 'response', status: 204 });
    const json = await transport.send({ method: 'DELETE', url, headers: {}, timeoutMs: 120.5 });
    expect(json).toMatchObject({ kind: 'response', status: 204 });
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

describe('UndiciTransport: the segment file is judged apart from the network', () => {
  it('a missing file is a file-error before anything is sent, and only it drops the segment', async () => {
    let requests = 0;
    const url = await serve((req, res) => {
      requests++;
      accept(req, res);
    });
    const outcome = await post(url, 500, transport, join(tmpdir(), 'no-such-segment.ts'));
    expect(outcome).toMatchObject({ kind: 'file-error', code: 'ENOENT' });
    expect(classify(outcome).class).toBe('unreadable');
    expect(requests).toBe(0);
  });

  it('a file that shrank behind our back is sent as it is, not failed on its length at every attempt', async () => {
    const short = join(mkdtempSync(join(tmpdir(), 'http-test-')), 'short.ts');
    writeFileSync(short, Buffer.alloc(1000, 0x47));
    let received = 0;
    const url = await serve((req, res) => {
      req.on('data', (c: Buffer) => {
        received += c.length;
      });
      req.on('end', () => res.writeHead(204).end());
    });
    // Journaled at 64 KiB (see post()), 1000 bytes on disk.
    expect(await post(url, 2000, transport, short)).toMatchObject({ kind: 'response', status: 204 });
    expect(received).toBe(1000);
  });

  it('a file that opens but cannot be read (a directory) is a file-error too', async () => {
    const url = await serve(accept);
    const dir = join(mkdtempSync(join(tmpdir(), 'http-test-')), 'seg.ts');
    mkdirSync(dir);
    const outcome = await post(url, 500, transport, dir);
    expect(outcome).toMatchObject({ kind: 'file-error', code: 'EISDIR' });
    expect(classify(outcome).class).toBe('unreadable');
  });

  // undici's MockAgent stands in for the socket: the same transport code sees the same errors.
  it.each([
    [
      'a socket EACCES (a firewall rule)',
      Object.assign(new Error('connect EACCES 10.0.0.1:443'), { code: 'EACCES', syscall: 'connect' }),
    ],
    ['a socket EPERM', Object.assign(new Error('connect EPERM'), { code: 'EPERM', syscall: 'connect' })],
    [
      'an error whose cause is an ENOENT',
      new errors.SocketError('other side closed', {
        cause: Object.assign(new Error('x'), { code: 'ENOENT' }),
      } as never),
    ],
  ])('%s is a transient network error, never an unreadable segment', async (_what, error) => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('https://ingest.test').intercept({ path: '/x', method: 'POST' }).replyWithError(error);
    const mocked = new UndiciTransport({ connectTimeoutMs: 1000, dispatcher: agent });
    const outcome = await post('https://ingest.test/x', 1000, mocked);
    expect(outcome.kind).toBe('error');
    expect(classify(outcome).class).toBe('transient');
    await agent.close();
  });
});

describe('UndiciTransport over https (a throwaway CA, a real node:https server)', () => {
  const pki = makePki();

  it('verifies certificates: a private CA is fatal with a hint to --ca-file', async () => {
    const url = await serve(accept, { cert: pki.cert, key: pki.key });
    const outcome = await post(url);
    expect(outcome).toMatchObject({ kind: 'error', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(classify(outcome)).toMatchObject({ class: 'tls', hint: expect.stringMatching(/--ca-file/) });
  });

  it('a self-signed certificate is fatal', async () => {
    const url = await serve(accept, makeSelfSigned());
    const outcome = await post(url);
    expect(outcome).toMatchObject({ kind: 'error', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(classify(outcome).class).toBe('tls');
  });

  it('trusts the CA given as extraCa, and still checks the host name', async () => {
    const trusting = new UndiciTransport({ connectTimeoutMs: 2000, extraCa: [pki.ca] });
    const url = await serve(accept, { cert: pki.cert, key: pki.key });
    expect(await post(url, 2000, trusting)).toMatchObject({ kind: 'response', status: 204 });
    // The leaf is for 127.0.0.1 only.
    const wrongName = await post(url.replace('127.0.0.1', 'localhost'), 2000, trusting);
    expect(wrongName).toMatchObject({ kind: 'error', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(classify(wrongName)).toMatchObject({ class: 'tls', hint: expect.stringMatching(/check --cloud/) });
    await trusting.close();
  });

  it('adds the extra CAs to the default roots rather than replacing them', () => {
    const cas = trustedCas([pki.ca]);
    expect(cas).toEqual([...rootCertificates, pki.ca]);
    expect(rootCertificates.length).toBeGreaterThan(50);
  });
});
