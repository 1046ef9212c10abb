/** The HTTP seam: the uploader speaks to this interface; production uses undici (http.ts). */

export interface OutgoingRequest {
  readonly method: 'POST' | 'DELETE' | 'HEAD';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * A file streamed from disk (`pace` is awaited before each chunk goes out: the upload rate
   * cap), or a small JSON text.
   */
  readonly body?:
    | { readonly file: string; readonly bytes: number; readonly pace?: Pace | undefined }
    | { readonly json: unknown }
    | undefined;
  /** Hard deadline for the whole exchange, including a server that accepts and never answers. */
  readonly timeoutMs: number;
  /** Aborts early (a forced shutdown). */
  readonly signal?: AbortSignal | undefined;
}

/** Resolves when `bytes` more may be sent. */
export type Pace = (bytes: number) => Promise<void>;

export type HttpOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfter?: string | undefined;
      /** The server's `Date` header: its clock, for `doctor`'s skew check. */
      readonly date?: string | undefined;
      readonly body: string;
    }
  /** The exchange failed on the network side (connect, TLS, socket, deadline): never the file's fault. */
  | {
      readonly kind: 'error';
      readonly code: string;
      readonly message: string;
      /** The proxy refused to open the tunnel to the ingest with this status (code PROXY_REFUSED_CODE). */
      readonly proxyStatus?: number | undefined;
    }
  /** The segment file itself could not be opened or read: a local outcome, decided before or while sending. */
  | { readonly kind: 'file-error'; readonly code: string; readonly message: string };

export interface HttpTransport {
  send(request: OutgoingRequest): Promise<HttpOutcome>;
  close(): Promise<void>;
}

/** A transport reports our own deadline firing with this code, whatever the socket saw then. */
export const DEADLINE_CODE = 'ERR_DEADLINE';
/** ...and the caller's abort (a stop) with this one. */
export const ABORTED_CODE = 'ERR_ABORTED';
/**
 * A phase of the exchange went quiet well before the deadline (request-phases.ts): no
 * connection, no body progress, or no answer after the body was sent. The ingest may be hung.
 */
export const PHASE_TIMEOUT_CODES = {
  connect: 'ERR_CONNECT_TIMEOUT',
  body: 'ERR_BODY_STALLED',
  headers: 'ERR_HEADERS_TIMEOUT',
} as const;

/** The proxy answered CONNECT with something else than 200 (its status in `proxyStatus`). */
export const PROXY_REFUSED_CODE = 'ERR_PROXY_REFUSED';

/** How much of an answer's body we keep (for logs and rejected/ notes). */
export const BODY_HEAD_BYTES = 512;
