import type { OnvifErrorCode } from './errors.js';

/** The `code` of every RelayError (src/errors.ts and the ingest server's own), exit code per class. */
export type RelayErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_FFMPEG_NOT_FOUND'
  | 'ERR_AUTH'
  | 'ERR_TLS'
  | 'ERR_PROXY_AUTH'
  | 'ERR_CAPTURE'
  | 'ERR_SPOOL'
  | 'ERR_SPOOL_BUSY'
  | OnvifErrorCode
  /** Anything thrown that is not a RelayError, wrapped (a bug). */
  | 'ERR_UNEXPECTED'
  // The ingest server's (src/ingest-server).
  | 'ERR_BAD_FAULT_SPEC'
  | 'ERR_INGEST_EXPOSED'
  | 'ERR_INGEST_STORE_UNSAFE'
  | 'ERR_INGEST_WAIT_TIMEOUT';

/** Trouble an `error` event reports while the camera keeps running (no RelayError is thrown). */
export type RecoverableErrorCode =
  /** The camera refused the user/password of --source; retried slowly. */
  | 'ERR_CAMERA_AUTH'
  /** ffmpeg ended; restarted with backoff. */
  | 'ERR_FFMPEG_EXIT'
  /** The spool's journal could not be written; healed. */
  | 'ERR_JOURNAL'
  /** The loss ledger could not be written. */
  | 'ERR_LEDGER'
  /** Registration failed for now; retried. */
  | 'ERR_REGISTER'
  /** One upload failed for now; retried. */
  | 'ERR_UPLOAD';

/** The `code` of an NDJSON `error` event: a camera's (or the process's) failure, or recoverable trouble. */
export type ErrorEventCode = RelayErrorCode | RecoverableErrorCode;
