/** Names shared by the spool, the sweep and recovery: one place so they cannot drift apart. */

/**
 * Every per-run spool dir starts with this, then `-<camera id>~` (tmp appends `-<pid>-<random>`),
 * so a dir whose journal was never written still says whose it is.
 */
export const SPOOL_DIR_PREFIX = 'trio-relay-segments';
/** Append-only journal (JSON lines) of a spool dir. */
export const JOURNAL_FILE = 'journal.jsonl';
/** Loss ledger (JSONL) in the spool root: every evicted, rejected or abandoned segment. */
export const LOSS_LEDGER_FILE = 'trio-relay-losses.jsonl';
/** Bounded folder beside the spool dirs for segments the ingest refused (4xx). */
export const REJECTED_DIR = 'trio-relay-rejected';

/** Digits of a sequence in a segment's name, zero-padded so names sort in sequence order. */
export const SEQUENCE_DIGITS = 9;

const SEGMENT_RE = new RegExp(`^seg-(\\d{${SEQUENCE_DIGITS},})\\.ts$`);

/** ffmpeg's segment muxer output pattern; the number is the camera-wide sequence. */
export const SEGMENT_PATTERN = `seg-%0${SEQUENCE_DIGITS}d.ts`;

/** A sequence as it appears in names: zero-padded to SEQUENCE_DIGITS. */
export function paddedSequence(sequence: number): string {
  return String(sequence).padStart(SEQUENCE_DIGITS, '0');
}

export function segmentName(sequence: number): string {
  return `seg-${paddedSequence(sequence)}.ts`;
}

/** A segment's idempotency key: stable across retries and restarts, unique per camera run. */
export function idempotencyKey(cameraId: string, runId: string, sequence: number): string {
  return `${cameraId}:${runId}:${sequence}`;
}

/** The sequence encoded in a segment file name, or undefined for anything else. */
export function segmentSequence(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The prefix tmp gets for a camera's run dir. */
export function spoolDirPrefix(cameraId: string): string {
  return `${SPOOL_DIR_PREFIX}-${cameraId}~`;
}

/** The camera a spool dir belongs to, from its name; undefined when it is no spool dir. */
export function spoolDirCamera(name: string): string | undefined {
  if (!name.startsWith(`${SPOOL_DIR_PREFIX}-`)) return undefined;
  const rest = name.slice(SPOOL_DIR_PREFIX.length + 1);
  const end = rest.lastIndexOf('~');
  return end > 0 ? rest.slice(0, end) : undefined;
}

/** Per-camera state file in the spool root: the next sequence, so it never restarts at 0. */
export function cameraStateFile(cameraId: string): string {
  return `trio-relay-camera-${cameraId}.json`;
}

/** Per-camera lock file in the spool root: one relay per camera and spool at a time. */
export function cameraLockFile(cameraId: string): string {
  return `trio-relay-camera-${cameraId}.lock`;
}
