import { readFile } from 'node:fs/promises';
import type { HttpOutcome, HttpTransport, OutgoingRequest } from '../../src/uploader/transport.js';

/**
 * A globalThis.fetch implementation of the HTTP seam, so msw can intercept the uploader's
 * requests in unit tests (msw does not see undici.request, which production uses).
 */
export class FetchTransport implements HttpTransport {
  async send(req: OutgoingRequest): Promise<HttpOutcome> {
    const signal = req.signal
      ? AbortSignal.any([AbortSignal.timeout(req.timeoutMs), req.signal])
      : AbortSignal.timeout(req.timeoutMs);
    let body: Buffer | string | undefined;
    const headers = new Headers(req.headers);
    if (req.body && 'file' in req.body) body = await readFile(req.body.file);
    else if (req.body) {
      body = JSON.stringify(req.body.json);
      headers.set('content-type', 'application/json');
    }
    try {
      const res = await fetch(req.url, { method: req.method, headers, body, signal });
      return {
        kind: 'response',
        status: res.status,
        retryAfter: res.headers.get('retry-after') ?? undefined,
        body: await res.text(),
      };
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      return { kind: 'error', code, message: (error as Error).message };
    }
  }

  async close(): Promise<void> {}
}
