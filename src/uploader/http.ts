/** The only module that imports undici. */
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, errors, ProxyAgent, request } from 'undici';
import { redactUrl } from '../redact.js';
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
}

/** Node's default roots plus `extraCa`: an explicit `ca` replaces the defaults, so they are added back. */
export function trustedCas(extraCa: readonly string[]): string[] {
  return [...rootCertificates, ...extraCa];
}

const READ_CHUNK_BYTES = 64 * 1024;

export class UndiciTransport implements HttpTransport {
  readonly #dispatcher: Dispatcher;

  readonly #proxy: string | undefined;

  constructor(options: UndiciTransportOptions) {
    this.#proxy = options.proxy;
    this.#dispatcher = options.dispatcher ?? createDispatcher(options);
  }

  async send(req: OutgoingRequest): Promise<HttpOutcome> {
    const headers: Record<string, string> = { ...req.headers };
    let body: Readable | string | undefined;
    let file: FileHandle | undefined;
    // Set only by our own reads of the segment file, so a socket error can never pass for one.
    let fileFailure: unknown;
    if (req.body && 'file' in req.body) {
      let size: number;
      try {
        file = await open(req.body.file, 'r');
        size = (await file.stat()).size;
      } catch (error) {
        await file?.close().catch(() => undefined);
        return fileError(error);
      }
      const chunks = readFile(
        file,
        (error) => {
          fileFailure = error;
        },
        req.body.pace,
      );
      body = Readable.from(chunks, { objectMode: false });
      // What is on disk, not what was journaled: a file that changed size behind our back would
      // otherwise fail on its length at every attempt and hold up the camera's queue for good.
      headers['content-length'] = String(size);
    } else if (req.body) {
      body = JSON.stringify(req.body.json);
      headers['content-type'] = 'application/json';
    }
    const deadline = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([deadline, req.signal]) : deadline;
    try {
      const response = await request(req.url, {
        method: req.method,
        headers,
        body,
        signal,
        dispatcher: this.#dispatcher,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
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
      if (deadline.aborted) {
        return {
          kind: 'error',
          code: DEADLINE_CODE,
          message: `no complete answer within ${req.timeoutMs} ms`,
        };
      }
      if (req.signal?.aborted) return { kind: 'error', code: ABORTED_CODE, message: 'aborted' };
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
      if (body instanceof Readable) body.destroy();
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

/** The segment file in chunks; a failed read is reported through `onError` before it propagates. */
async function* readFile(
  file: FileHandle,
  onError: (error: unknown) => void,
  pace?: Pace,
): AsyncGenerator<Buffer> {
  for (;;) {
    let bytesRead: number;
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    try {
      ({ bytesRead } = await file.read(buffer, 0, READ_CHUNK_BYTES, null));
    } catch (error) {
      onError(error);
      throw error;
    }
    if (bytesRead === 0) return;
    if (pace) await pace(bytesRead);
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
