/** Vocabulary every layer may use: it lives at the bottom so no import points upward. */

/** What kind of source a camera is; sent at registration as `source_type`. */
export type SourceKind = 'rtsp' | 'http' | 'file' | 'v4l2' | 'testsrc';

/**
 * Why a segment was not delivered: over --max-spool-mb, ENOSPC, refused by the ingest (4xx),
 * its file gone, listed by ffmpeg but never written, a partial segment ffmpeg was writing when it
 * died that holds no decodable video, another camera's dead spool removed past --stale-after.
 */
export type LossReason =
  | 'evicted'
  | 'disk-full'
  | 'rejected'
  | 'unreadable'
  | 'write-failed'
  | 'unsalvageable'
  | 'stale';

/**
 * Which segment the shared upload pool sends next. fifo: each camera oldest first. live-first:
 * each camera's newest segment, then its backlog oldest first.
 */
export type UploadOrder = 'fifo' | 'live-first';
