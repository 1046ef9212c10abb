/** The only module that imports undici. */
import { createReadStream } from 'node:fs';
import { Agent, errors, request } from 'undici';
import {
  ABORTED_CODE,
  BODY_HEAD_BYTES,
  DEADLINE_CODE,
  type HttpOutcome,
  type HttpTransport,
  type OutgoingRequest,
} from './transport.js';

export class UndiciTransport implements HttpTransport {
  readonly #agent: Agent;

  constructor(options: { connectTimeoutMs: number }) {
    this.#agent = new Agent({ connect: { timeout: options.connectTimeoutMs }, keepAliveTimeout: 10_000 });
  }

  async send(req: OutgoingRequest): Promise<HttpOutcome> {
    const deadline = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([deadline, req.signal]) : deadline;
    const headers: Record<string, string> = { ...req.headers };
    let body: NodeJS.ReadableStream | string | undefined;
    if (req.body && 'file' in req.body) {
      body = createReadStream(req.body.file);
      headers['content-length'] = String(req.body.bytes);
    } else if (req.body) {
      body = JSON.stringify(req.body.json);
      headers['content-type'] = 'application/json';
    }
    try {
      const response = await request(req.url, {
        method: req.method,
        headers,
        body: body as never, // undici accepts a Readable or a string; its union type is narrower than ours.
        signal,
        dispatcher: this.#agent,
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
      if (deadline.aborted) {
        return {
          kind: 'error',
          code: DEADLINE_CODE,
          message: `no complete answer within ${req.timeoutMs} ms`,
        };
      }
      if (req.signal?.aborted) return { kind: 'error', code: ABORTED_CODE, message: 'aborted' };
      return { kind: 'error', code: errorCode(error), message: errorMessage(error) };
    } finally {
      if (body && typeof body !== 'string') (body as NodeJS.ReadableStream & { destroy(): void }).destroy();
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
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

/** The most specific code of an undici or system error (it often wraps the errno in `cause`). */
function errorCode(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    current = (current as { cause?: unknown }).cause;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof errors.UndiciError ? 'UND_ERR' : 'ERR_NETWORK';
}

function errorMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause instanceof Error && cause.message !== base ? `${base} (${cause.message})` : base;
}
