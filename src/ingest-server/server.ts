import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { isLoopback } from '../config/loopback.js';
import { ExitCode, RelayError } from '../errors.js';
import { removeStaleTemps } from './body.js';
import { CameraLimit } from './camera-limit.js';
import { Catalog } from './catalog.js';
import { formatOutcome, type IngestServerEvents, type ServedRequest } from './events.js';
import { FaultInjector } from './faults.js';
import { type LedgerEntry, loadLedgers } from './ledger.js';
import { type IngestServerOptions, type NormalizedOptions, normalizeOptions } from './options.js';
import { ReadRateLimit } from './read-rate.js';
import { authorized, handleRequest, type RouteContext } from './routes.js';
import { SegmentStore } from './store.js';
import { prepareOutDir } from './store-dir.js';
import { ViewerHistory } from './viewer/history.js';

export type { IngestServerEvents, ServedRequest } from './events.js';
export type { IngestServerOptions } from './options.js';

/** Counts since this server started (a restart on the same out dir starts again from zero). */
export interface IngestStats {
  accepted: number;
  duplicates: number;
  faulted: number;
  /** 4xx answers of ours (401, 413, 415, 400…) and bodies the client abandoned. */
  rejected: number;
  /** Bytes of accepted segments. */
  bytes: number;
  registrations: number;
  sessionEnds: number;
  /** Cameras seen, in order of first appearance. */
  cameras: string[];
}

/** `waitFor` ran out of time; the message carries the stats at that moment. */
export class IngestWaitTimeoutError extends RelayError {
  constructor(timeoutMs: number, stats: IngestStats) {
    super(
      'ERR_INGEST_WAIT_TIMEOUT',
      `ingest: condition not met within ${timeoutMs} ms; stats ${JSON.stringify(stats)}`,
    );
  }
}

/**
 * Listening beyond loopback with no token would take uploads from anyone on the network: refused
 * unless asked for (`insecure`).
 */
export class IngestExposedError extends RelayError {
  constructor(host: string) {
    super(
      'ERR_INGEST_EXPOSED',
      `ingest-server: --host ${host} is reachable from other machines and no --token is set, so anyone could upload: pass --token or --token-file (or --insecure to accept that)`,
      { exitCode: ExitCode.badInput },
    );
  }
}

/** accepted() keeps this many rows (the newest): the history of a long run must not grow memory. */
export const ACCEPTED_KEPT = 10_000;

/** How long close() waits for handlers whose sockets it destroyed to finish their bookkeeping. */
const SETTLE_MS = 2_000;

/**
 * The local ingest: the cloud contract (register, ingest, stop) on node:http, storing what it
 * receives under `outDir/<camera>/` with a ledger, de-duplicating on Idempotency-Key (across
 * restarts), and misbehaving on request through `faults`.
 */
export class IngestServer extends EventEmitter<IngestServerEvents> {
  readonly faults: FaultInjector;
  readonly #options: NormalizedOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #waiters = new Set<() => void>();
  readonly #accepted: LedgerEntry[] = [];
  readonly #cameras = new Set<string>();
  readonly #counts = {
    accepted: 0,
    duplicates: 0,
    faulted: 0,
    rejected: 0,
    bytes: 0,
    registrations: 0,
    sessionEnds: 0,
  };
  #port: number;
  #listening = false;
  #closing: Promise<void> | undefined;
  /** Listen/unlisten steps run one after another, so down() and up() never interleave. */
  #transitions: Promise<void> = Promise.resolve();

  readonly #history: ViewerHistory;
  readonly #cameraLimit: CameraLimit;
  /** Whether a connection was dropped (--max-connections) since the last one closed: logged once. */
  #dropping = false;

  private constructor(
    options: NormalizedOptions,
    catalog: Catalog,
    store: SegmentStore,
    history: ViewerHistory,
    cameras: CameraLimit,
  ) {
    super();
    this.#cameraLimit = cameras;
    this.#history = history;
    this.#options = options;
    this.#port = options.port;
    this.faults = new FaultInjector({
      stop: () => this.#unlisten(),
      start: () => this.#listen(),
      onError: (error) => options.log(`ingest: fault schedule failed: ${(error as Error)?.message ?? error}`),
    });
    const limit =
      options.readRateBytesPerS === undefined ? undefined : new ReadRateLimit(options.readRateBytesPerS);
    const context: RouteContext = {
      options,
      faults: this.faults,
      catalog,
      cameras,
      throttle: limit && ((bytes) => limit.take(bytes)),
      record: (outcome) => this.#record(outcome),
      store,
      viewer: {
        outDir: options.outDir,
        store,
        history,
        authorized: (req) => authorized(options.token, req.headers['x-api-key']),
      },
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const handled = handleRequest(context, req, res).catch((error: unknown) => this.#failed(res, error));
      this.#inFlight.add(handled);
      void handled.finally(() => this.#inFlight.delete(handled));
    };
    // Both timeouts set explicitly: requestTimeout 0 would disable Node's head timeout too. They
    // cover a request until its body has arrived, so a hang fault (body read, never answered)
    // still holds its socket until down() or close(). Slow bodies: the idle timeout in routes.ts.
    const timeouts = {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Node checks the two every 30 s by default: far too coarse for a 10 s limit.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(options.headersTimeoutMs / 4))),
    };
    // An https server has the same surface as an http one for all we use of it.
    this.#server = options.tls
      ? (createHttpsServer({ ...timeouts, ...options.tls }, onRequest) as unknown as Server)
      : createServer(timeouts, onRequest);
    // Each open connection holds memory and a descriptor: past the cap, new ones are dropped.
    this.#server.maxConnections = options.maxConnections;
    this.#server.on('drop', () => {
      if (this.#dropping) return;
      this.#dropping = true;
      options.log(`ingest: dropping new connections: ${options.maxConnections} open (--max-connections)`);
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#dropping = false;
      });
    });
  }

  /** Prepare `outDir` (rebuilding the de-duplication set from its ledgers), then listen. */
  static async start(options: IngestServerOptions): Promise<IngestServer> {
    const normalized = normalizeOptions(options);
    if (normalized.token === undefined && !normalized.insecure && !isLoopback(normalized.host)) {
      throw new IngestExposedError(normalized.host);
    }
    prepareOutDir(normalized.outDir);
    await removeStaleTemps(normalized.outDir);
    const rows = await loadLedgers(normalized.outDir);
    const store = new SegmentStore(normalized.outDir, normalized.maxStoreBytes, normalized.log);
    await store.load(rows);
    const history = new ViewerHistory();
    for (const row of rows) history.record(row);
    const cameras = new CameraLimit(normalized.maxCameras, new Set(rows.map((row) => row.camera)));
    const server = new IngestServer(normalized, Catalog.fromLedger(rows), store, history, cameras);
    await server.#listen();
    for (const rule of normalized.faults) server.faults.add(rule);
    return server;
  }

  get url(): string {
    const host = this.#options.host.includes(':') ? `[${this.#options.host}]` : this.#options.host;
    return `${this.#options.tls ? 'https' : 'http'}://${host}:${this.#port}`;
  }
  get port(): number {
    return this.#port;
  }
  get outDir(): string {
    return this.#options.outDir;
  }
  /** False while a `down` fault is in force, and after close(). */
  get listening(): boolean {
    return this.#listening;
  }

  stats(): IngestStats {
    return { ...this.#counts, cameras: [...this.#cameras] };
  }

  /** Accepted segment rows since start (the newest {@link ACCEPTED_KEPT}), in arrival order. */
  accepted(cameraId?: string): LedgerEntry[] {
    return this.#accepted.filter((row) => cameraId === undefined || row.camera === cameraId);
  }

  /**
   * Resolve once `predicate(stats())` holds: checked now and after every request, never by
   * polling. Rejects with {@link IngestWaitTimeoutError} (current stats in the message).
   */
  waitFor(predicate: (stats: IngestStats) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        try {
          if (predicate(this.stats())) finish();
        } catch (error) {
          finish(error);
        }
      };
      const timer = setTimeout(() => finish(new IngestWaitTimeoutError(timeoutMs, this.stats())), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Stop listening, destroy every socket (hung and keep-alive ones too), cancel fault timers. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.faults.dispose();
      await this.#unlisten();
      // The handlers' sockets are gone; give their ledger rows a moment to land, never forever.
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        delay(SETTLE_MS, undefined, { ref: false }),
      ]);
    })();
    return this.#closing;
  }

  #listen(): Promise<void> {
    return this.#transition(async () => {
      if (this.#listening || this.#closing) return;
      this.#server.listen(this.#port, this.#options.host);
      await once(this.#server, 'listening');
      // The first listen may have picked a free port; every later one reuses it.
      this.#port = (this.#server.address() as AddressInfo).port;
      this.#listening = true;
      this.emit('up');
    });
  }

  /** Close the listener and drop every connection: new ones are refused, open ones reset. */
  #unlisten(): Promise<void> {
    return this.#transition(async () => {
      if (!this.#listening) return;
      this.#listening = false;
      const closed = new Promise((resolve) => this.#server.close(resolve));
      for (const socket of this.#sockets) socket.destroy();
      await closed;
      this.emit('down');
    });
  }

  #transition(step: () => Promise<void>): Promise<void> {
    const run = this.#transitions.then(step);
    this.#transitions = run.catch(() => {});
    return run;
  }

  #record(outcome: ServedRequest): void {
    const { entry } = outcome;
    const counts = this.#counts;
    // Only cameras under the cap: ids refused by it must not grow this list either.
    if (
      outcome.camera !== null &&
      outcome.outcome !== 'unauthorized' &&
      outcome.outcome !== 'not_found' &&
      this.#cameraLimit.has(outcome.camera)
    ) {
      this.#cameras.add(outcome.camera);
    }
    if (outcome.outcome === 'fault') counts.faulted++;
    else if (outcome.outcome === 'rejected' || outcome.outcome === 'unauthorized') counts.rejected++;
    else if (outcome.route === 'register' && outcome.outcome === 'accepted') counts.registrations++;
    else if (outcome.route === 'session_end' && outcome.outcome === 'accepted') counts.sessionEnds++;
    else if (outcome.route === 'ingest' && outcome.outcome === 'duplicate') counts.duplicates++;
    else if (outcome.route === 'ingest' && outcome.outcome === 'accepted' && entry) {
      counts.accepted++;
      counts.bytes += entry.size;
      this.#accepted.push(entry);
      if (this.#accepted.length > ACCEPTED_KEPT) this.#accepted.shift();
    }
    if (entry) {
      this.#history.record(entry);
      this.emit(entry.event, entry);
    }
    this.emit('request', outcome);
    this.#options.log(formatOutcome(outcome));
    for (const check of this.#waiters) check();
  }

  /** Whether requests need an API key (the viewer's data too). */
  get hasToken(): boolean {
    return this.#options.token !== undefined;
  }

  /** The viewer page's address (`/`). */
  get viewerUrl(): string {
    return `${this.url}/`;
  }

  /** Logged in full here; the client learns only that it failed (no paths, no errno details). */
  #failed(res: ServerResponse, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#options.log(`ingest error: ${message}`);
    if (res.headersSent || res.destroyed) return;
    res
      .writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'internal error' }));
  }
}
