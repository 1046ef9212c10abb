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
 * Why a stretch of time holds no video although the relay was meant to capture it: the relay was
 * not running (stopped, killed, failed) between the end of its last segment and the start of the
 * next run's first; or, within a run, ffmpeg was down (the camera unreachable or refusing the
 * credentials, the stream stalled, ffmpeg exited, or could not write for a full disk).
 */
export type UncapturedReason =
  | 'relay-stopped'
  | 'relay-killed'
  | 'relay-failed'
  | 'camera-unreachable'
  | 'camera-refused'
  | 'camera-stalled'
  | 'ffmpeg-exited'
  | 'ffmpeg-no-space';

/** A declared hole in the timeline: video captured then lost, or never captured. */
export type GapReason = LossReason | UncapturedReason;

export const UNCAPTURED_REASONS: readonly UncapturedReason[] = [
  'relay-stopped',
  'relay-killed',
  'relay-failed',
  'camera-unreachable',
  'camera-refused',
  'camera-stalled',
  'ffmpeg-exited',
  'ffmpeg-no-space',
];

/**
 * Which segment the shared upload pool sends next. fifo: each camera oldest first. live-first:
 * each camera's newest segment, then its backlog oldest first.
 */
export type UploadOrder = 'fifo' | 'live-first';
