/**
 * The process's one HTTP stack, the only module that imports undici: the uploader's transport to
 * the ingest, and a one-off request for a device on the local network (the ONVIF client).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, errors, ProxyAgent, request } from 'undici';
import { redactUrl } from '../redact.js';
import { giveBackRing, READ_CHUNK_BYTES, type ReadRing, takeRing } from './read-buffers.js';
import {
  PHASE_LIMITS,
  type PhaseLimits,
  PhaseTimeoutError,
  PhaseWatch,
  UplinkRate,
} from './request-phases.js';
import {
  ABORTED_CODE,
  BODY_HEAD_BYTES,
  DEADLINE_CODE,
  type HttpOutcome,
  type HttpTransport,
  type OutgoingRequest,
  type Pace,
  PROXY_REFUSED_CODE,
} from './transport.js';

export interface UndiciTransportOptions {
  readonly connectTimeoutMs: number;
  /**
   * PEM certificates to trust besides Node's default roots (--ca-file, and NODE_EXTRA_CA_CERTS,
   * which an explicit `ca` would otherwise switch off). Undefined: Node's defaults, which
   * already include NODE_EXTRA_CA_CERTS.
   */
  readonly extraCa?: readonly string[] | undefined;
  /** The HTTP(S) proxy to reach the ingest through (credentials in the URL); undefined: directly. */
  readonly proxy?: string | undefined;
  /** Tests only: another dispatcher (undici's MockAgent) in place of our agent. */
  readonly dispatcher?: Dispatcher | undefined;
  /** Tests only: shorter phase timeouts than {@link PHASE_LIMITS}. */
  readonly phases?: PhaseLimits | undefined;
}

/** Node's default roots plus `extraCa`: an explicit `ca` replaces the defaults, so they are added back. */
export function trustedCas(extraCa: readonly string[]): string[] {
  return [...rootCertificates, ...extraCa];
}

export class UndiciTransport implements HttpTransport {
  readonly #dispatcher: Dispatcher;
  readonly #phases: PhaseLimits;
  readonly #uplink = new UplinkRate();
  readonly #connectTimeoutMs: number;

  readonly #proxy: string | undefined;

  constructor(options: UndiciTransportOptions) {
    this.#phases = options.phases ?? PHASE_LIMITS;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#proxy = options.proxy;
    this.#dispatcher = options.dispatcher ?? createDispatcher(options);
  }

  async send(outgoing: OutgoingRequest): Promise<HttpOutcome> {
    // Whole ms, as undici's timeouts and our messages want; what is left of a stop budget is not.
    const req = { ...outgoing, timeoutMs: Math.max(0, Math.floor(outgoing.timeoutMs)) };
    const headers: Record<string, string> = { ...req.headers };
    let body: Readable | string | undefined;
    let file: FileHandle | undefined;
    let ring: ReadRing | undefined;
    // Set only by our own reads of the segment file, so a socket error can never pass for one.
    let fileFailure: unknown;
    // Each phase has its own timer inside the hard deadline: a hung ingest shows in seconds.
    const watch = new PhaseWatch(req.timeoutMs, req.signal);
    const phases = this.#phases;
    // The connect phase is the agent's own `connect.timeout` (connectTimeoutMs): undici does not
    // give up a connection attempt on an abort, so a timer of ours could not end it sooner.
    let firstByteAt: number | undefined;
    let size = 0;
    if (req.body && 'file' in req.body) {
      try {
        file = await open(req.body.file, 'r');
        size = (await file.stat()).size;
      } catch (error) {
        watch.end();
        await file?.close().catch(() => undefined);
        return fileError(error);
      }
      const uplink = this.#uplink;
      const bytes = size;
      ring = takeRing();
      const chunks = readFile(file, ring, {
        onError: (error) => {
          fileFailure = error;
        },
        pace: req.body.pace,
        // Asked for a chunk: the socket took the last one (or is ready for the first).
        onChunk: () => {
          firstByteAt ??= performance.now();
          watch.arm('body', phases.stallMs);
        },
        onPacing: () => watch.disarm(),
        onEnd: () => watch.arm('headers', phases.headersMs + uplink.flushMs(bytes)),
      });
      body = Readable.from(chunks, { objectMode: false });
      // What is on disk, not what was journaled: a file that changed size behind our back would
      // otherwise fail on its length at every attempt and hold up the camera's queue for good.
      headers['content-length'] = String(size);
    } else if (req.body) {
      body = JSON.stringify(req.body.json);
      headers['content-type'] = 'application/json';
    }
    // Nothing to stream (a small JSON, a HEAD): one timer from connect to the answer.
    if (!file) watch.arm('headers', phases.connectMs + phases.headersMs);
    try {
      const response = await request(req.url, {
        method: req.method,
        headers,
        body,
        signal: watch.signal,
        dispatcher: this.#dispatcher,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      watch.disarm();
      if (firstByteAt !== undefined && response.statusCode < 300)
        this.#uplink.observe(size, performance.now() - firstByteAt);
      const text = await readHead(response.body);
      const header = (name: string) => {
        const value = response.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      return {
        kind: 'response',
        status: response.statusCode,
        retryAfter: header('retry-after'),
        date: header('date'),
        body: text,
      };
    } catch (error) {
      if (fileFailure !== undefined) return fileError(fileFailure);
      if (watch.deadlinePassed) {
        return {
          kind: 'error',
          code: DEADLINE_CODE,
          message: `no complete answer within ${req.timeoutMs} ms`,
        };
      }
      if (watch.expired) return { kind: 'error', code: watch.expired.code, message: watch.expired.message };
      if (req.signal?.aborted) return { kind: 'error', code: ABORTED_CODE, message: 'aborted' };
      if (errorCode(error) === 'UND_ERR_CONNECT_TIMEOUT') {
        const expired = new PhaseTimeoutError('connect', this.#connectTimeoutMs);
        return { kind: 'error', code: expired.code, message: expired.message };
      }
      const proxyStatus = this.#proxy === undefined ? undefined : tunnelRefusal(error);
      if (proxyStatus !== undefined) {
        return {
          kind: 'error',
          code: PROXY_REFUSED_CODE,
          message: `the proxy ${redactUrl(this.#proxy!)} answered ${proxyStatus} to CONNECT ${new URL(req.url).host}`,
          proxyStatus,
        };
      }
      return { kind: 'error', code: errorCode(error), message: errorMessage(error) };
    } finally {
      watch.end();
      if (body instanceof Readable) body.destroy();
      if (ring) giveBackRing(ring);
      await file?.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.destroy();
  }
}

const KEEP_ALIVE_MS = 10_000;

/** One agent for every request of the process: direct, or through the proxy. */
function createDispatcher(options: UndiciTransportOptions): Dispatcher {
  const connect = {
    timeout: options.connectTimeoutMs,
    ...(options.extraCa ? { ca: trustedCas(options.extraCa) } : {}),
  };
  if (options.proxy === undefined) return new Agent({ connect, keepAliveTimeout: KEEP_ALIVE_MS });
  // Always a CONNECT tunnel, for an http:// ingest too: then every refusal of the tunnel is the
  // proxy's and every HTTP answer the ingest's, so a proxy's 401/407/502 is never taken for the
  // ingest's. The ingest's TLS runs inside the tunnel with our CAs (`requestTls`); an https://
  // proxy's own TLS trusts the same (`proxyTls`). Credentials in the URL become Proxy-Authorization.
  return new ProxyAgent({
    uri: options.proxy,
    proxyTunnel: true,
    keepAliveTimeout: KEEP_ALIVE_MS,
    requestTls: connect,
    proxyTls: connect,
  });
}

/**
 * The proxy's status when it refused to open the tunnel. undici reports it only in its error
 * text ("Proxy response (407) !== 200 when HTTP Tunneling"), tested against a real proxy.
 */
function tunnelRefusal(error: unknown): number | undefined {
  const message = error instanceof Error ? error.message : '';
  const m = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/.exec(message);
  return m ? Number(m[1]) : undefined;
}

interface ReadHooks {
  /** A failed read, reported before it propagates. */
  readonly onError: (error: unknown) => void;
  readonly pace?: Pace | undefined;
  /** A chunk is about to go to the socket. */
  readonly onChunk: () => void;
  /** The upload-rate cap is about to hold the next chunk: that wait is ours, not the socket's. */
  readonly onPacing: () => void;
  /** The last byte was handed over. */
  readonly onEnd: () => void;
}

/** The segment file in chunks, telling the phase timer where the body is. */
async function* readFile(file: FileHandle, ring: ReadRing, hooks: ReadHooks): AsyncGenerator<Buffer> {
  for (;;) {
    let bytesRead: number;
    const buffer = ring.next();
    try {
      ({ bytesRead } = await file.read(buffer, 0, READ_CHUNK_BYTES, null));
    } catch (error) {
      hooks.onError(error);
      throw error;
    }
    if (bytesRead === 0) {
      hooks.onEnd();
      return;
    }
    if (hooks.pace) {
      hooks.onPacing();
      await hooks.pace(bytesRead);
    }
    hooks.onChunk();
    yield buffer.subarray(0, bytesRead);
  }
}

function fileError(error: unknown): HttpOutcome {
  return { kind: 'file-error', code: errorCode(error), message: errorMessage(error) };
}

/** Read at most BODY_HEAD_BYTES of a body and discard the rest (still consuming it). */
async function readHead(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < BODY_HEAD_BYTES) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  return Buffer.concat(chunks).subarray(0, BODY_HEAD_BYTES).toString('utf8');
}

/**
 * The error's own code. Never one found deeper in its `cause` chain: a wrapped errno says
 * nothing about where it happened (a socket's EACCES is not an unreadable segment file).
 */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof errors.UndiciError ? 'UND_ERR' : 'ERR_NETWORK';
}

function errorMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause instanceof Error && cause.message !== base ? `${base} (${cause.message})` : base;
}

/** What {@link postToDevice} sends, and how much of the answer it reads. */
export interface DevicePost {
  readonly body: string;
  readonly contentType: string;
  /** Aborts the call; its reason is undici's error. */
  readonly signal: AbortSignal;
  /** Longer answers are refused: the call throws before reading more. */
  readonly maxAnswerBytes: number;
}

/**
 * One POST to a device on the local network, answer read whole: `request` (not fetch, which
 * refuses "bad ports" such as 554 or 5060 that a camera's web service may use), over a connection
 * of its own that the call closes. Not the transport's dispatcher: that one goes to the ingest,
 * through its proxy and with its CA, and a camera is on the local network. Throws undici's own
 * errors, for the caller to word.
 */
export async function postToDevice(url: string, post: DevicePost): Promise<{ status: number; text: string }> {
  const dispatcher = new Agent();
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': post.contentType },
      body: post.body,
      signal: post.signal,
      dispatcher,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > post.maxAnswerBytes) {
        response.body.destroy();
        throw new Error(`answer larger than ${post.maxAnswerBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return { status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}
