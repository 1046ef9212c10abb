import type { GapInfo } from '../ledger.js';

/** One run of consecutive sequence numbers that share a fate. */
export interface TimelineRun {
  readonly from: number;
  readonly to: number;
  /**
   * received: stored here. declared: missing, and the relay said why (X-Segment-Gap). silent:
   * missing with no word from the relay (yet: it may still be on its way).
   */
  readonly kind: 'received' | 'declared' | 'silent';
  /** For a declared run, the relay's reason (evicted, rejected, write-failed…). */
  readonly reason?: string;
  /** Duplicates that arrived for sequences of this run (retries whose answer was lost). */
  readonly duplicates: number;
}

/** At most this many sequences are drawn: the newest ones. */
export const TIMELINE_SPAN = 600;

/**
 * The strip the viewer draws: the last sequences of a camera, in runs of received, declared and
 * silent holes. A hole is "declared" if a gap the relay reported covers it, whatever arrived since.
 */
export function buildTimeline(
  received: readonly number[],
  gaps: readonly GapInfo[],
  duplicates: readonly number[],
  span: number = TIMELINE_SPAN,
): TimelineRun[] {
  const got = new Set(received);
  const top = Math.max(-1, ...received, ...gaps.map((g) => g.seq_to));
  if (top < 0) return [];
  // Older segments may have been rotated out: start at the oldest kept one, or a gap that ends there.
  const oldestKept = received.length > 0 ? Math.min(...received) : Number.NEGATIVE_INFINITY;
  const near = gaps.filter((g) => g.seq_to >= oldestKept - 1);
  const lowest = Math.min(...received, ...near.map((g) => g.seq_from));
  const first = Math.max(lowest, top - span + 1);
  const dups = new Map<number, number>();
  for (const seq of duplicates) dups.set(seq, (dups.get(seq) ?? 0) + 1);
  const reasonOf = (seq: number) => near.findLast((g) => seq >= g.seq_from && seq <= g.seq_to)?.reason;

  const runs: Array<{
    from: number;
    to: number;
    kind: TimelineRun['kind'];
    reason?: string;
    duplicates: number;
  }> = [];
  for (let seq = first; seq <= top; seq++) {
    const reason = got.has(seq) ? undefined : reasonOf(seq);
    const kind = got.has(seq) ? 'received' : reason !== undefined ? 'declared' : 'silent';
    const last = runs.at(-1);
    if (last && last.kind === kind && last.reason === reason && last.to === seq - 1) {
      last.to = seq;
      last.duplicates += dups.get(seq) ?? 0;
    } else {
      runs.push({
        from: seq,
        to: seq,
        kind,
        ...(reason === undefined ? {} : { reason }),
        duplicates: dups.get(seq) ?? 0,
      });
    }
  }
  return runs;
}
