import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type FaultAction, FaultInjector, type FaultRule } from './faults.js';
import { appendLedger, type LedgerEntry, parseGapHeader, readLedgers } from './ledger.js';

export interface IngestServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  outDir: string;
  /** When set, every request needs `X-API-Key: <token>`. */
  token?: string | undefined;
  maxBodyBytes?: number;
  faults?: readonly FaultRule[];
  /** One human line per segment. */
  log?: (line: string) => void;
}

export interface IngestStats {
  accepted: number;
  duplicates: number;
  faulted: number;
  bytes: number;
  registrations: number;
  sessionEnds: number;
  cameras: string[];
}

const INGEST_PATH = /^\/api\/stream\/ingest\/([^/?]+)$/;
const MAX_JSON_BYTES = 64 * 1024;

/**
 * The local ingest: the cloud contract (register, ingest, stop) on node:http, storing what it
 * receives with a ledger, de-duplicating on Idempotency-Key, and misbehaving on request.
 */
export class IngestServer extends EventEmitter {
  readonly faults: FaultInjector;
  readonly #options: IngestServerOptions;
  readonly #host: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #keys = new Set<string>();
  readonly #accepted: LedgerEntry[] = [];
  readonly #stats = { accepted: 0, duplicates: 0, faulted: 0, bytes: 0, registrations: 0, sessionEnds: 0 };
  readonly #cameras = new Set<string>();
  #port = 0;
  #listening = false;

  private constructor(options: IngestServerOptions) {
    super();
    this.#options = options;
    this.#host = options.host ?? '127.0.0.1';
    this.faults = new FaultInjector((down) => (down ? this.#stopListening() : this.#listen(this.#port)));
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: IngestServerOptions): Promise<IngestServer> {
    const server = new IngestServer(options);
    await mkdir(options.outDir, { recursive: true });
    for (const row of await readLedgers(options.outDir)) server.#remember(row);
    await server.#listen(options.port);
    for (const rule of options.faults ?? []) server.faults.add(rule);
    return server;
  }

  get url(): string {
    return `http://${this.#host}:${this.#port}`;
  }
  get port(): number {
    return this.#port;
  }
  get outDir(): string {
    return this.#options.outDir;
  }

  stats(): IngestStats {
    return { ...this.#stats, cameras: [...this.#cameras] };
  }

  /** Accepted segment rows in arrival order (one per idempotency key). */
  accepted(cameraId?: string): LedgerEntry[] {
    return this.#accepted.filter((r) => cameraId === undefined || r.camera === cameraId);
  }

  /** Resolve as soon as `predicate(stats)` holds; checked on every change, never by polling. */
  waitFor(predicate: (stats: IngestStats) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.stats())) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `ingest: condition not met within ${timeoutMs} ms; stats ${JSON.stringify(this.stats())}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('change', check);
      };
      this.on('change', check);
      check();
    });
  }

  async close(): Promise<void> {
    this.faults.dispose();
    await this.#stopListening();
  }

  async #listen(port: number): Promise<void> {
    if (this.#listening) return;
    this.#server.listen(port, this.#host);
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#listening = true;
  }

  /** Stop accepting and drop every open connection, hung ones included. */
  async #stopListening(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise((resolve) => this.#server.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #remember(row: LedgerEntry): void {
    if (row.event !== 'segment' || row.status !== 'accepted') return;
    if (row.idempotency_key) this.#keys.add(row.idempotency_key);
    this.#accepted.push(row);
    this.#cameras.add(row.camera);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ingest');
    const token = this.#options.token;
    if (token && req.headers['x-api-key'] !== token) {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid api key"}');
      return;
    }
    const ingest = INGEST_PATH.exec(url.pathname);
    if (req.method === 'POST' && url.pathname === '/api/cameras') return this.#register(req, res);
    if (req.method === 'POST' && ingest) return this.#ingest(req, res, decodeURIComponent(ingest[1]!));
    if (req.method === 'DELETE' && ingest) return this.#endSession(res, decodeURIComponent(ingest[1]!));
    req.resume();
    res.writeHead(404).end();
  }

  async #register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) return void res.writeHead(413).end();
      chunks.push(chunk);
    }
    let body: { id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown };
    } catch {
      return void res.writeHead(400).end('{"error":"invalid json"}');
    }
    if (typeof body.id !== 'string' || !/^[\w.-]{1,128}$/.test(body.id)) {
      return void res.writeHead(400).end('{"error":"missing or invalid id"}');
    }
    const camera = body.id;
    await mkdir(join(this.outDir, camera), { recursive: true });
    await writeFile(join(this.outDir, camera, 'camera.json'), `${JSON.stringify(body, null, 2)}\n`);
    await appendLedger(this.outDir, row(camera, 'register', 'accepted', 201));
    this.#stats.registrations++;
    this.#cameras.add(camera);
    this.emit('register', camera);
    this.emit('change');
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: camera }));
  }

  async #endSession(res: ServerResponse, camera: string): Promise<void> {
    await mkdir(join(this.outDir, camera), { recursive: true });
    await appendLedger(this.outDir, row(camera, 'session_end', 'accepted', 204));
    this.#stats.sessionEnds++;
    this.emit('session_end', camera);
    this.emit('change');
    res.writeHead(204).end();
  }

  async #ingest(req: IncomingMessage, res: ServerResponse, camera: string): Promise<void> {
    if (!/^[\w.-]{1,128}$/.test(camera)) {
      req.resume();
      return void res.writeHead(400).end('bad camera id');
    }
    const action = this.faults.next();
    if (action.kind !== 'pass') return this.#fault(req, res, camera, action);
    if (req.headers['content-type'] !== 'video/mp2t') {
      req.resume();
      return void res.writeHead(415).end('expected Content-Type: video/mp2t');
    }
    const max = this.#options.maxBodyBytes ?? 256 * 1024 * 1024;
    if (Number(req.headers['content-length'] ?? 0) > max) {
      req.resume();
      return void res.writeHead(413).end('segment too large');
    }
    const dir = join(this.outDir, camera);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.incoming-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        req,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > max) throw new Error('segment too large');
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
    } catch {
      await unlink(temp).catch(() => {});
      if (!res.headersSent && !req.socket.destroyed) res.writeHead(size > max ? 413 : 400).end();
      return;
    }
    const entry = this.#segmentRow(req, camera, size, hash.digest('hex'));
    if (size === 0) {
      await unlink(temp);
      return void res.writeHead(400).end('empty segment');
    }
    const key = entry.idempotency_key;
    if (key && this.#keys.has(key)) {
      await unlink(temp);
      entry.status = 'duplicate';
      entry.file = null;
      this.#stats.duplicates++;
    } else {
      const seq =
        entry.sequence === null ? `n${this.#accepted.length}` : String(entry.sequence).padStart(9, '0');
      entry.file = `${seq}-${createHash('sha256')
        .update(key ?? entry.sha256!)
        .digest('hex')
        .slice(0, 8)}.ts`;
      await rename(temp, join(dir, entry.file));
      this.#remember(entry);
      this.#stats.accepted++;
      this.#stats.bytes += size;
    }
    await appendLedger(this.outDir, entry);
    this.#log(entry);
    res.writeHead(204).end();
    this.emit('segment', entry);
    this.emit('change');
  }

  async #fault(
    req: IncomingMessage,
    res: ServerResponse,
    camera: string,
    action: Exclude<FaultAction, { kind: 'pass' }>,
  ) {
    this.#stats.faulted++;
    await mkdir(join(this.outDir, camera), { recursive: true });
    const entry = { ...this.#segmentRow(req, camera, 0, null), status: 'fault' as const };
    if (action.kind === 'status') {
      entry.http_status = action.status;
      req.resume();
      await once(req, 'end').catch(() => {});
      const headers = action.retryAfterS === undefined ? {} : { 'retry-after': String(action.retryAfterS) };
      res.writeHead(action.status, headers).end(`injected fault ${action.status}`);
    } else if (action.kind === 'hang') {
      entry.http_status = 0;
      req.resume(); // read everything, answer nothing: the socket stays open until close()/down()
    } else {
      entry.http_status = 0;
      await once(req, 'data').catch(() => {});
      req.socket.destroy();
    }
    await appendLedger(this.outDir, entry);
    this.#log(entry, action.kind === 'status' ? String(action.status) : action.kind);
    this.emit('request', { camera, action });
    this.emit('change');
  }

  #segmentRow(req: IncomingMessage, camera: string, size: number, sha256: string | null): LedgerEntry {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const number = (name: string) => {
      const v = header(name);
      return v === undefined || !Number.isFinite(Number(v)) ? null : Number(v);
    };
    return {
      ...row(camera, 'segment', 'accepted', 204),
      size,
      sha256,
      idempotency_key: header('idempotency-key') ?? null,
      sequence: number('x-segment-sequence'),
      start: header('x-segment-start') ?? null,
      duration: number('x-segment-duration'),
      gap: parseGapHeader(header('x-segment-gap')),
      clock_jump: number('x-segment-clock-jump'),
    };
  }

  #log(entry: LedgerEntry, fault?: string): void {
    const size = `${(entry.size / 1024).toFixed(1)} KB`;
    const gap = entry.gap ? `  gap ${JSON.stringify(entry.gap)}` : '';
    const outcome = fault ? `fault ${fault}` : entry.status;
    this.#options.log?.(
      `cam ${entry.camera.slice(0, 8)} seq ${entry.sequence ?? '-'}  ${size}  ${outcome}${gap}`,
    );
  }
}

function row(
  camera: string,
  event: LedgerEntry['event'],
  status: LedgerEntry['status'],
  http: number,
): LedgerEntry {
  return {
    ts: new Date().toISOString(),
    camera,
    event,
    status,
    http_status: http,
    size: 0,
    sha256: null,
    file: null,
    idempotency_key: null,
    sequence: null,
    start: null,
    duration: null,
    gap: null,
    clock_jump: null,
  };
}
