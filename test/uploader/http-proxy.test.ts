import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, ProxyAuthError } from '../../src/errors.js';
import { classify, fatalError } from '../../src/uploader/classify.js';
import { UndiciTransport } from '../../src/uploader/http.js';
import { PROXY_REFUSED_CODE } from '../../src/uploader/transport.js';

/** The transport through a real (tiny) CONNECT proxy and to a real ingest, both node:http on port 0. */
const servers: Server[] = [];
const sockets = new Set<Socket>();

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A proxy answering CONNECT with `status`, or (200) piping the tunnel to the target; records what it saw. */
async function proxy(status: number, seen: IncomingMessage[] = []): Promise<number> {
  const server = createServer();
  server.on('connect', (req: IncomingMessage, client: Socket) => {
    seen.push(req);
    sockets.add(client);
    if (status !== 200) {
      client.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
  });
  return listen(server);
}

async function ingest(): Promise<string> {
  const port = await listen(
    createServer((_req, res) => {
      res.writeHead(204).end();
    }),
  );
  return `http://127.0.0.1:${port}/api/cameras`;
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const post = (url: string) =>
  ({ method: 'POST', url, headers: {}, body: { json: {} }, timeoutMs: 3000 }) as const;

describe('UndiciTransport through a proxy', () => {
  it('opens a CONNECT tunnel (an http ingest too) with the URL credentials as Proxy-Authorization', async () => {
    const seen: IncomingMessage[] = [];
    const port = await proxy(200, seen);
    const url = await ingest();
    const transport = new UndiciTransport({
      connectTimeoutMs: 2000,
      proxy: `http://u%40x:p%3Aw@127.0.0.1:${port}`,
    });
    try {
      expect(await transport.send(post(url))).toMatchObject({ kind: 'response', status: 204 });
      expect(seen[0]?.method).toBe('CONNECT');
      expect(seen[0]?.url).toBe(new URL(url).host);
      expect(seen[0]?.headers['proxy-authorization']).toBe(
        `Basic ${Buffer.from('u@x:p:w').toString('base64')}`,
      );
    } finally {
      await transport.close();
    }
  });

  it.each([407, 401])(
    'a %i to CONNECT is the proxy refusing our credentials: fatal, ERR_PROXY_AUTH, exit 6',
    async (status) => {
      const port = await proxy(status);
      const url = await ingest();
      const transport = new UndiciTransport({
        connectTimeoutMs: 2000,
        proxy: `http://u:secret-pw@127.0.0.1:${port}`,
      });
      try {
        const outcome = await transport.send(post(url));
        expect(outcome).toMatchObject({ kind: 'error', code: PROXY_REFUSED_CODE, proxyStatus: status });
        expect(JSON.stringify(outcome)).not.toContain('secret-pw');
        const verdict = classify(outcome);
        expect(verdict).toMatchObject({ class: 'proxy-auth', status });
        const error = fatalError(verdict, url);
        expect(error).toBeInstanceOf(ProxyAuthError);
        expect(error).toMatchObject({ code: 'ERR_PROXY_AUTH', exitCode: ExitCode.proxyAuth });
        expect(error!.message).toContain(
          `the proxy http://u:***@127.0.0.1:${port} answered ${status} to CONNECT`,
        );
        expect(error!.message).not.toMatch(/check the API key/);
      } finally {
        await transport.close();
      }
    },
  );

  it.each([502, 503, 504, 403])(
    'a %i to CONNECT is transient: the ingest is unreachable through the proxy',
    async (status) => {
      const port = await proxy(status);
      const transport = new UndiciTransport({ connectTimeoutMs: 2000, proxy: `http://127.0.0.1:${port}` });
      try {
        expect(classify(await transport.send(post(await ingest())))).toMatchObject({
          class: 'transient',
          unreachable: true,
        });
      } finally {
        await transport.close();
      }
    },
  );

  it('a proxy that is not there: connection refused, transient like any other', async () => {
    const port = await proxy(200);
    await new Promise((r) => servers.pop()!.close(r));
    const transport = new UndiciTransport({ connectTimeoutMs: 2000, proxy: `http://127.0.0.1:${port}` });
    try {
      expect(classify(await transport.send(post(await ingest())))).toMatchObject({
        class: 'transient',
        reason: expect.stringMatching(/^ECONNREFUSED/),
        unreachable: true,
      });
    } finally {
      await transport.close();
    }
  });

  it('an HTTP 407 answer (a transparent proxy on the way) is the proxy-auth verdict too, not a rejected segment', () => {
    expect(classify({ kind: 'response', status: 407, body: '' })).toMatchObject({
      class: 'proxy-auth',
      status: 407,
    });
  });
});
