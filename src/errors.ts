import type { RelayErrorCode } from './error-codes.js';

/** Exit codes are part of the operator contract (documented in the README). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  badInput: 2,
  auth: 3,
  captureFailed: 4,
  tls: 5,
  proxyAuth: 6,
  interrupted: 130,
} as const;

/** Base of every error the relay raises on purpose: a fixed `code` callers branch on. */
export class RelayError extends Error {
  readonly code: RelayErrorCode;
  readonly exitCode: number;

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options?.exitCode ?? ExitCode.failure;
  }
}

/** Bad flags, env or files: reported before anything starts, exit 2. */
export class ConfigError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, { ...options, exitCode: ExitCode.badInput });
  }
}

export class FfmpegNotFoundError extends RelayError {
  constructor(message: string) {
    super('ERR_FFMPEG_NOT_FOUND', message, { exitCode: ExitCode.badInput });
  }
}

/** The ingest refused our API key (401/403): no retry can fix it. */
export class AuthError extends RelayError {
  readonly status: number;
  constructor(status: number, url: string) {
    super(
      'ERR_AUTH',
      `the ingest at ${url} answered ${status}: check the API key (--token, --token-file or TRIO_TOKEN); the spool is kept for the next run`,
      { exitCode: ExitCode.auth },
    );
    this.status = status;
  }
}

/** The ingest's TLS certificate cannot be verified: a configuration error no retry can fix. */
export class TlsError extends RelayError {
  readonly tlsCode: string;
  constructor(host: string, tlsCode: string, reason: string, hint: string) {
    super(
      'ERR_TLS',
      `TLS: the certificate of the ingest at ${host} cannot be verified (${reason}): ${hint}; the spool is kept for the next run`,
      { exitCode: ExitCode.tls },
    );
    this.tlsCode = tlsCode;
  }
}

/**
 * The HTTP(S) proxy refused the relay's credentials (407, or 401 as some proxies answer a wrong
 * password): a setting to fix, not the API key and not a network blip.
 */
export class ProxyAuthError extends RelayError {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(
      'ERR_PROXY_AUTH',
      `${detail}: the proxy wants credentials or refused ours; check USER:PASSWORD@ in the proxy URL (--proxy, TRIO_PROXY, HTTPS_PROXY or HTTP_PROXY), not the API key; the spool is kept for the next run`,
      { exitCode: ExitCode.proxyAuth },
    );
    this.status = status;
  }
}

/** ffmpeg kept failing past --max-restarts. */
export class CaptureError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CAPTURE', message, { ...options, exitCode: ExitCode.captureFailed });
  }
}

export class SpoolError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SPOOL', message, options);
  }
}

export function isRelayError(error: unknown): error is RelayError {
  return error instanceof RelayError;
}

/** Another relay already runs this camera on this spool root. */
export class SpoolBusyError extends RelayError {
  constructor(cameraId: string, root: string, holder?: { pid: number; host: string; since: string }) {
    const who = holder ? ` (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : '';
    super(
      'ERR_SPOOL_BUSY',
      `another trio-relay is already relaying camera ${cameraId} with spool dir ${root}${who}: stop it first, or give this one another --camera-id or --spool-dir`,
      { exitCode: ExitCode.badInput },
    );
  }
}

/** What went wrong asking an ONVIF device for its stream (src/onvif); callers branch on `code`. */
export type OnvifErrorCode =
  /** The device refused the user or password: a setting to fix, exit 2. */
  | 'ERR_ONVIF_AUTH'
  /** --profile names no profile of the device, or it has none: exit 2. */
  | 'ERR_ONVIF_PROFILE'
  /** No answer (refused, unreachable, timed out): exit 4, the camera cannot be captured. */
  | 'ERR_ONVIF_UNREACHABLE'
  /** An answer that is not the ONVIF we asked for (a SOAP fault, not XML, no media service): exit 4. */
  | 'ERR_ONVIF_PROTOCOL';

export class OnvifError extends RelayError {
  declare readonly code: OnvifErrorCode;
  constructor(code: OnvifErrorCode, message: string, options?: { cause?: unknown }) {
    const badInput = code === 'ERR_ONVIF_AUTH' || code === 'ERR_ONVIF_PROFILE';
    super(code, message, { ...options, exitCode: badInput ? ExitCode.badInput : ExitCode.captureFailed });
  }
}
