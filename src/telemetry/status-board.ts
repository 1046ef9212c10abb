import type { StatusSnapshot } from './events.js';
import { formatStatus, squeeze, statusKind } from './status-line.js';

/** One camera's numbers, as the board shows them. */
export interface CameraStatus {
  readonly camera: string;
  readonly snapshot: StatusSnapshot;
}

/** A camera id longer than this is shortened in the middle on the board (UUIDs are 36). */
const MAX_ID_CHARS = 24;

/**
 * The status lines of every camera, each at most `width` characters, at most `maxLines` of
 * them. One camera: its status line as ever. Several: one line each, after its id. More
 * cameras than lines: a summary of all, then the cameras in trouble first, then "and N more".
 */
export function formatBoard(cameras: readonly CameraStatus[], width: number, maxLines: number): string[] {
  if (cameras.length === 0) return [];
  if (cameras.length === 1) return [formatStatus(cameras[0]!.snapshot, width)];
  if (cameras.length <= maxLines) return cameraLines(cameras, width);
  const summary = formatSummary(cameras).slice(0, width);
  // Room for the summary, the "more" line and at least one camera, else the summary alone.
  const room = maxLines - 2;
  if (room < 1) return [summary];
  const troubled = (c: CameraStatus) => statusKind(c.snapshot) !== 'RELAYING';
  const shown = [...cameras.filter(troubled), ...cameras.filter((c) => !troubled(c))].slice(0, room);
  const hidden = cameras.filter((c) => !shown.includes(c));
  const hiddenTroubled = hidden.filter(troubled).length;
  const more = `… and ${hidden.length} more camera${hidden.length === 1 ? '' : 's'}${hiddenTroubled ? ` (${hiddenTroubled} not relaying)` : ', relaying'}`;
  return [summary, ...cameraLines(shown, width), more.slice(0, width)];
}

/** Each camera's line after its id, ids padded to one width so the numbers line up. */
function cameraLines(cameras: readonly CameraStatus[], width: number): string[] {
  const ids = cameras.map((c) => squeeze(c.camera, MAX_ID_CHARS));
  const idWidth = Math.max(...ids.map((id) => id.length));
  return cameras.map((c, i) => {
    const prefix = `${ids[i]!.padEnd(idWidth)} | `;
    return `${prefix}${formatStatus(c.snapshot, Math.max(0, width - prefix.length))}`.slice(0, width);
  });
}

/** All cameras in one line: how many in each state, and the totals. */
export function formatSummary(cameras: readonly CameraStatus[]): string {
  const byLabel = new Map<string, number>();
  for (const { snapshot } of cameras) {
    const kind = statusKind(snapshot);
    byLabel.set(kind, (byLabel.get(kind) ?? 0) + 1);
  }
  const sum = (read: (s: StatusSnapshot) => number) =>
    cameras.reduce((total, c) => total + read(c.snapshot), 0);
  const losses = [
    ...(sum((s) => s.evicted) ? [`lost ${sum((s) => s.evicted)}`] : []),
    ...(sum((s) => s.rejected) ? [`rejected ${sum((s) => s.rejected)}`] : []),
  ];
  return [
    `${cameras.length} cameras: ${[...byLabel].map(([label, n]) => `${n} ${label}`).join(', ')}`,
    `${sum((s) => s.mbps).toFixed(2)} Mbps`,
    `ok ${sum((s) => s.delivered)}`,
    `retrying ${sum((s) => s.retrying)}`,
    `pending ${sum((s) => s.pending)}`,
    ...losses,
    `spool ${(sum((s) => s.spoolBytes) / 1048576).toFixed(1)} MB`,
  ].join(' | ');
}

/**
 * Draws the board on a TTY stream as a block redrawn in place (cursor up, rewrite, clear what
 * is left below); other output calls `clear()` first. One camera: exactly the old status line.
 */
export class StatusBlock {
  readonly #stream: NodeJS.WriteStream;
  /** Lines drawn now; the cursor sits at the end of the last one. */
  #shown = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
  }

  show(cameras: readonly CameraStatus[]): void {
    // One column short of the width: writing the last column wraps on some terminals. Two rows
    // short of the height: the cursor cannot move above the screen, and a log line needs room.
    const width = (this.#stream.columns || 120) - 1;
    const maxLines = Math.max(1, (this.#stream.rows || 24) - 2);
    const lines = formatBoard(cameras, width, maxLines);
    if (lines.length === 0) {
      this.clear();
      return;
    }
    const rest = lines.length < this.#shown ? '\x1b[J' : '';
    this.#stream.write(`${this.#up()}\r${lines.map((line) => `\x1b[2K${line}`).join('\n')}${rest}`);
    this.#shown = lines.length;
  }

  clear(): void {
    if (this.#shown === 1) this.#stream.write('\r\x1b[2K');
    else if (this.#shown > 1) this.#stream.write(`${this.#up()}\r\x1b[J`);
    this.#shown = 0;
  }

  #up(): string {
    return this.#shown > 1 ? `\x1b[${this.#shown - 1}A` : '';
  }
}
