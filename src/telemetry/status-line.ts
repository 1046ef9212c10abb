import { redact } from '../redact.js';
import type { StatusSnapshot } from './events.js';

/** Nothing delivered for this long while segments wait: the line says STALLED, not RELAYING. */
export const STALLED_AFTER_S = 60;
/** The last error keeps at least this many characters when the line is squeezed. */
const MIN_ERROR_CHARS = 20;
const ERROR_PREFIX = 'last error: ';

/** What the relay is really doing, in a word or two: the state, unless delivery is failing or stuck. */
export function statusKind(s: StatusSnapshot): string {
  const active = s.state === 'relaying' || s.state === 'connecting' || s.state === 'reconnecting';
  if (active && s.ingestFailingS !== undefined) return 'INGEST FAILING';
  if (active && s.pending > 0 && s.sinceDeliveredS >= STALLED_AFTER_S) return 'STALLED';
  return s.state.toUpperCase();
}

/** The status kind, with how long and since when when delivery is failing or stuck. */
export function statusLabel(s: StatusSnapshot): string {
  const kind = statusKind(s);
  const lastDelivery = s.deliveredAny
    ? `last delivery ${formatAgo(s.sinceDeliveredS)} ago`
    : 'nothing delivered yet';
  if (kind === 'INGEST FAILING') return `INGEST FAILING ${formatAgo(s.ingestFailingS ?? 0)}, ${lastDelivery}`;
  if (kind === 'STALLED') return `STALLED: ${lastDelivery}`;
  return kind;
}

interface Part {
  readonly text: string;
  /** Lower goes first when the line is too wide; the state and the error never go. */
  readonly keep: number;
}

/**
 * One line: state, uptime, rate, segment counts, spool, last error. Fitted to `width`
 * characters by dropping the least telling numbers first, then shortening the error in the
 * middle so both its start (the code) and its informative end stay.
 */
export function formatStatus(s: StatusSnapshot, width = Number.POSITIVE_INFINITY): string {
  const parts: Part[] = [
    { text: statusLabel(s), keep: 9 },
    { text: `up ${formatUptime(s.uptimeS)}`, keep: 1 },
    { text: `${s.mbps.toFixed(2)} Mbps`, keep: 3 },
    ...(s.fps > 0 ? [{ text: `${s.fps.toFixed(1)} fps`, keep: 0 }] : []),
    { text: `ok ${s.delivered}`, keep: 6 },
    { text: `retrying ${s.retrying}`, keep: 5 },
    { text: `pending ${s.pending}`, keep: 7 },
    // `evicted` counts every `evicted` segment event: the bound, a full disk, an unreadable file…
    ...(s.evicted ? [{ text: `lost ${s.evicted}`, keep: 8 }] : []),
    ...(s.rejected ? [{ text: `rejected ${s.rejected}`, keep: 8 }] : []),
    { text: `spool ${(s.spoolBytes / 1048576).toFixed(1)} MB`, keep: 2 },
  ].map((p) => ({ ...p, text: redact(p.text) }));
  const error = s.lastError ? redact(s.lastError.replace(/\s+/g, ' ').trim()) : undefined;
  const joined = (list: readonly Part[], tail?: string) =>
    [...list.map((p) => p.text), ...(tail ? [`${ERROR_PREFIX}${tail}`] : [])].join(' | ');

  // First the cheap numbers make room for the whole error, then the error gives way down to
  // MIN_ERROR_CHARS, and only then do the counts go; the state and the losses always stay.
  let kept = parts;
  const fits = (tail?: string) => joined(kept, tail).length <= width;
  for (const threshold of [0, 1, 2, 3]) {
    if (fits(error)) return joined(kept, error);
    kept = kept.filter((p) => p.keep > threshold);
  }
  if (!error) return joined(kept).slice(0, width);
  for (const threshold of [4, 5, 6, 7]) {
    if (fits(squeeze(error, MIN_ERROR_CHARS))) break;
    kept = kept.filter((p) => p.keep > threshold);
  }
  const room = width - joined(kept).length - 3 - ERROR_PREFIX.length;
  return joined(kept, squeeze(error, Math.max(MIN_ERROR_CHARS, room))).slice(0, width);
}

/** Shorten to `max` characters with an ellipsis in the middle: a third of the start, the rest the end. */
export function squeeze(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor((max - 1) / 3);
  const tail = max - 1 - head;
  return `${text.slice(0, head)}…${text.slice(text.length - tail)}`;
}

/** A short span: 40s, 1m15s, 2h05m. */
function formatAgo(seconds: number): string {
  const s = Math.floor(seconds);
  return s < 60 ? `${s}s` : formatUptime(s);
}

function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
