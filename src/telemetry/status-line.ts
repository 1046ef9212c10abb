import { redact } from '../redact.js';
import type { StatusSnapshot } from './events.js';

/** One line, rewritten in place on a TTY: state, uptime, rate, segment counts, spool, last error. */
export function formatStatus(s: StatusSnapshot): string {
  const parts = [
    s.state.toUpperCase(),
    `up ${formatUptime(s.uptimeS)}`,
    `${s.mbps.toFixed(2)} Mbps`,
    ...(s.fps > 0 ? [`${s.fps.toFixed(1)} fps`] : []),
    `ok ${s.delivered}`,
    `retrying ${s.retrying}`,
    `pending ${s.pending}`,
    ...(s.evicted ? [`evicted ${s.evicted}`] : []),
    ...(s.rejected ? [`rejected ${s.rejected}`] : []),
    `spool ${(s.spoolBytes / 1048576).toFixed(1)} MB`,
  ];
  if (s.lastError) parts.push(`last error: ${s.lastError}`);
  return redact(parts.join(' | '));
}

function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** Draws the status line on a TTY stream; other output calls `clear()` first. */
export class StatusLine {
  readonly #stream: NodeJS.WriteStream;
  #shown = false;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
  }

  show(snapshot: StatusSnapshot): void {
    const width = this.#stream.columns || 120;
    this.#stream.write(`\r\x1b[2K${formatStatus(snapshot).slice(0, width - 1)}`);
    this.#shown = true;
  }

  clear(): void {
    if (this.#shown) this.#stream.write('\r\x1b[2K');
    this.#shown = false;
  }
}
