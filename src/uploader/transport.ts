/** The HTTP seam: the uploader speaks to this interface; production uses undici (http.ts). */

export interface OutgoingRequest {
  readonly method: 'POST' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A file streamed from disk, or a small JSON text. */
  readonly body?: { readonly file: string; readonly bytes: number } | { readonly json: unknown } | undefined;
  /** Hard deadline for the whole exchange, including a server that accepts and never answers. */
  readonly timeoutMs: number;
  /** Aborts early (a forced shutdown). */
  readonly signal?: AbortSignal | undefined;
}

export type HttpOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfter?: string | undefined;
      readonly body: string;
    }
  /** The exchange failed on the network side (connect, TLS, socket, deadline): never the file's fault. */
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  /** The segment file itself could not be opened or read: a local outcome, decided before or while sending. */
  | { readonly kind: 'file-error'; readonly code: string; readonly message: string };

export interface HttpTransport {
  send(request: OutgoingRequest): Promise<HttpOutcome>;
  close(): Promise<void>;
}

/** How much of an answer's body we keep (for logs and rejected/ notes). */
export const BODY_HEAD_BYTES = 512;
