import type { IncomingHttpHeaders } from 'node:http';

/** One dropped range the relay reports in `X-Segment-Gap`. */
export interface GapInfo {
  seq_from: number;
  seq_to: number;
  start: string;
  end: string;
  reason: string;
}

/** A parsed `X-Segment-Gap`, or the raw value when it does not parse (kept, never dropped). */
export type GapField = GapInfo[] | { raw: string };

/**
 * A segment longer than this is no segment the relay cuts (at most 600 s, a long GOP aside): a
 * client's `X-Segment-Duration: 1e9` would otherwise become a playlist's #EXT-X-TARGETDURATION.
 */
export const MAX_SEGMENT_DURATION_S = 3600;

/** What the relay tells us about a segment, besides its bytes. */
export interface SegmentHeaders {
  idempotency_key: string | null;
  sequence: number | null;
  start: string | null;
  duration: number | null;
  gap: GapField | null;
  clock_jump: number | null;
}

/** Read the ordering and de-duplication headers of an ingest POST; anything malformed is null. */
export function readSegmentHeaders(headers: IncomingHttpHeaders): SegmentHeaders {
  const sequence = numberOrNull(first(headers['x-segment-sequence']));
  return {
    idempotency_key: first(headers['idempotency-key']) || null,
    // A sequence names a file: only a non-negative integer may.
    sequence: sequence !== null && Number.isSafeInteger(sequence) && sequence >= 0 ? sequence : null,
    start: first(headers['x-segment-start']) || null,
    duration: durationOrNull(numberOrNull(first(headers['x-segment-duration']))),
    gap: parseGapHeader(first(headers['x-segment-gap'])),
    clock_jump: numberOrNull(first(headers['x-segment-clock-jump'])),
  };
}

/**
 * `seq=12-14; start=…; end=…; reason=evicted, seq=20-20; …` → one object per gap.
 * `seq=12` is read as `12-12`. Any part that does not parse turns the whole value into `{raw}`.
 */
export function parseGapHeader(value: string | undefined): GapField | null {
  if (value === undefined || value.trim() === '') return null;
  const gaps: GapInfo[] = [];
  // ISO timestamps hold no comma, so splitting before each `seq=` is unambiguous.
  for (const part of value.split(/\s*,\s*(?=seq=)/)) {
    const fields = new Map<string, string>();
    for (const pair of part.split(';')) {
      const i = pair.indexOf('=');
      if (i <= 0) return { raw: value };
      fields.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    const seq = /^(\d+)(?:-(\d+))?$/.exec(fields.get('seq') ?? '');
    const reason = fields.get('reason');
    // A reason is one word; anything else means the split went wrong (e.g. a stray comma).
    if (!seq || !reason || !/^[\w.-]+$/.test(reason)) return { raw: value };
    gaps.push({
      seq_from: Number(seq[1]),
      seq_to: Number(seq[2] ?? seq[1]),
      start: fields.get('start') ?? '',
      end: fields.get('end') ?? '',
      reason,
    });
  }
  return gaps;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A duration a playlist can carry: positive and at most MAX_SEGMENT_DURATION_S, else unknown. */
function durationOrNull(seconds: number | null): number | null {
  return seconds !== null && seconds > 0 && seconds <= MAX_SEGMENT_DURATION_S ? seconds : null;
}
