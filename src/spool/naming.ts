/** Names shared by the spool, the sweep and recovery: one place so they cannot drift apart. */

/** Every per-run spool dir starts with this (tmp appends `-<pid>-<random>`). */
export const SPOOL_DIR_PREFIX = 'trio-relay-segments';
export const JOURNAL_FILE = 'journal.json';
/** Loss ledger (JSONL) in the spool root: every evicted, rejected or abandoned segment. */
export const LOSS_LEDGER_FILE = 'trio-relay-losses.jsonl';
/** Bounded folder beside the spool dirs for segments the ingest refused (4xx). */
export const REJECTED_DIR = 'trio-relay-rejected';

const SEGMENT_RE = /^seg-(\d{9,})\.ts$/;

/** ffmpeg's segment muxer output pattern; the number is the camera-wide sequence. */
export const SEGMENT_PATTERN = 'seg-%09d.ts';

export function segmentName(sequence: number): string {
  return `seg-${String(sequence).padStart(9, '0')}.ts`;
}

/** The sequence encoded in a segment file name, or undefined for anything else. */
export function segmentSequence(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function isSpoolDirName(name: string): boolean {
  return name.startsWith(`${SPOOL_DIR_PREFIX}-`);
}

/** Per-camera state file in the spool root: the next sequence, so it never restarts at 0. */
export function cameraStateFile(cameraId: string): string {
  return `trio-relay-camera-${cameraId}.json`;
}
