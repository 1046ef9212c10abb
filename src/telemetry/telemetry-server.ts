import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redact } from '../redact.js';
import type { Readiness } from './readiness.js';

export interface TelemetryServerOptions {
  readonly host: string;
  /** 0: any free port (read it back from `port`). */
  readonly port: number;
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>;
  readonly readiness: () => Readiness;
}

/**
 * The relay's operations endpoint: `/metrics` (Prometheus text), `/healthz` (liveness: an
 * answer at all means the process and its event loop run) and `/readyz` (200 or 503 with the
 * reasons as JSON). It only reads; nothing it does reaches the pipeline.
 */
export class TelemetryServer {
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listen, or reject with the listen error (EADDRINUSE, EACCES, EADDRNOTAVAIL…). */
  static async start(options: TelemetryServerOptions): Promise<TelemetryServer> {
    const startedAt = Date.now();
    const server = createServer((req, res) => {
      void handle(req, res, options, startedAt);
    });
    // Scrapers and probes are short-lived: an idle keep-alive socket must not hold the exit.
    server.keepAliveTimeout = 2000;
    server.listen(options.port, options.host);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error)),
    ]);
    return new TelemetryServer(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Base URL, e.g. http://127.0.0.1:9464 (IPv6 hosts in brackets). */
  get url(): string {
    const { address, family, port } = this.#server.address() as AddressInfo;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: TelemetryServerOptions,
  startedAt: number,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { allow: 'GET, HEAD' });
  }
  try {
    switch (path) {
      case '/metrics': {
        const { contentType, body } = await options.metrics();
        return send(res, 200, contentType, body);
      }
      case '/healthz':
        return sendJson(res, 200, { status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000) });
      case '/readyz': {
        const { ready, reasons, cameras } = options.readiness();
        return sendJson(res, ready ? 200 : 503, {
          status: verdict(ready),
          reasons,
          cameras: cameras.map((c) => ({ camera: c.camera, status: verdict(c.ready), reasons: c.reasons })),
        });
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz or /readyz\n');
    }
  } catch (error) {
    return send(res, 500, 'text/plain; charset=utf-8', `${String(error)}\n`);
  }
}

function verdict(ready: boolean): 'ready' | 'not ready' {
  return ready ? 'ready' : 'not ready';
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  // Readiness reasons quote error messages: masked like every other byte the relay writes.
  const text = redact(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
