import { describe, expect, it } from 'vitest';
import {
  type CameraStatus,
  formatBoard,
  formatSummary,
  StatusBlock,
} from '../../src/telemetry/status-board.js';
import { formatStatus } from '../../src/telemetry/status-line.js';
import { healthySnapshot } from './snapshot.js';

const cam = (camera: string, overrides: Parameters<typeof healthySnapshot>[0] = {}): CameraStatus => ({
  camera,
  snapshot: healthySnapshot(overrides),
});

/** A TTY stream that keeps what was written. */
function fakeTty(columns: number, rows: number) {
  const writes: string[] = [];
  const stream = { columns, rows, write: (chunk: string) => writes.push(chunk) > 0 };
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

describe('status board', () => {
  it('one camera: its status line as ever, without an id', () => {
    expect(formatBoard([cam('front')], 200, 10)).toEqual([formatStatus(healthySnapshot(), 200)]);
    expect(formatBoard([], 200, 10)).toEqual([]);
  });

  it('several cameras: one line each after its id, ids padded so the numbers line up, fitted to the width', () => {
    const lines = formatBoard([cam('front'), cam('back-yard', { ingestFailingS: 12, pending: 4 })], 200, 10);
    expect(lines).toEqual([
      `front     | ${formatStatus(healthySnapshot(), 188)}`,
      `back-yard | ${formatStatus(healthySnapshot({ ingestFailingS: 12, pending: 4 }), 188)}`,
    ]);
    expect(lines[1]).toMatch(/^back-yard \| INGEST FAILING 12s/);
    for (const line of formatBoard([cam('front'), cam('back-yard')], 50, 10)) {
      expect(line.length).toBeLessThanOrEqual(50);
      expect(line).toMatch(/^(front {4}|back-yard) \| RELAYING/);
    }
  });

  it('a long id (a UUID) is shortened in the middle', () => {
    const id = '6ba7b810-9dad-51d1-80b4-00c04fd430c8';
    const [line] = formatBoard([cam(id), cam('b')], 200, 10);
    expect(line).toMatch(/^6ba7b81…0b4-00c04fd430c8 \| RELAYING/);
  });

  it('more cameras than rows: a summary, the cameras in trouble first, and how many more', () => {
    const cameras = [
      ...Array.from({ length: 8 }, (_, i) => cam(`cam-${i}`, { delivered: 10, pending: 1, mbps: 0.25 })),
      cam('cam-8', { state: 'reconnecting', delivered: 10, pending: 1, mbps: 0.25 }),
      cam('cam-9', { ingestFailingS: 30, delivered: 10, pending: 1, mbps: 0.25, evicted: 2 }),
    ];
    const lines = formatBoard(cameras, 200, 5);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(
      '10 cameras: 8 RELAYING, 1 RECONNECTING, 1 INGEST FAILING | 2.50 Mbps | ok 100 | retrying 0 | pending 10 | lost 2 | spool 0.5 MB',
    );
    expect(lines.slice(1, 4).map((l) => l.split(' ')[0])).toEqual(['cam-8', 'cam-9', 'cam-0']);
    expect(lines[4]).toBe('… and 7 more cameras, relaying');
    // The hidden ones in trouble are said so.
    expect(formatBoard(cameras, 200, 3)).toEqual([
      lines[0],
      lines[1],
      '… and 9 more cameras (1 not relaying)',
    ]);
    // No room for a camera line: the summary alone.
    expect(formatBoard(cameras, 40, 2)).toEqual([lines[0]!.slice(0, 40)]);
  });

  it('the summary counts cameras by kind of state, not by how long', () => {
    const summary = formatSummary([cam('a', { ingestFailingS: 5 }), cam('b', { ingestFailingS: 90 })]);
    expect(summary).toMatch(/^2 cameras: 2 INGEST FAILING \| /);
  });
});

describe('status block on a TTY', () => {
  it('one camera: the line redrawn in place, as the old status line did', () => {
    const { stream, writes } = fakeTty(100, 24);
    const block = new StatusBlock(stream);
    block.show([cam('front')]);
    block.show([cam('front')]);
    block.clear();
    block.clear();
    const line = formatStatus(healthySnapshot(), 99);
    expect(writes).toEqual([`\r\x1b[2K${line}`, `\r\x1b[2K${line}`, '\r\x1b[2K']);
  });

  it('several cameras: a block redrawn from its first line, the rest cleared when it shrinks', () => {
    const { stream, writes } = fakeTty(100, 24);
    const block = new StatusBlock(stream);
    block.show([cam('a'), cam('b'), cam('c')]);
    block.show([cam('a'), cam('b'), cam('c')]);
    block.show([cam('a'), cam('b')]);
    block.clear();
    const [a, b, c] = formatBoard([cam('a'), cam('b'), cam('c')], 99, 22);
    expect(writes).toEqual([
      `\r\x1b[2K${a}\n\x1b[2K${b}\n\x1b[2K${c}`,
      `\x1b[2A\r\x1b[2K${a}\n\x1b[2K${b}\n\x1b[2K${c}`,
      `\x1b[2A\r\x1b[2K${a}\n\x1b[2K${b}\x1b[J`,
      '\x1b[1A\r\x1b[J',
    ]);
  });

  it('never taller than the terminal allows: the summary form', () => {
    const { stream, writes } = fakeTty(100, 6);
    const block = new StatusBlock(stream);
    block.show(Array.from({ length: 10 }, (_, i) => cam(`cam-${i}`)));
    expect(writes[0]!.split('\n')).toHaveLength(4);
    expect(writes[0]?.startsWith('\r\x1b[2K10 cameras: 10 RELAYING')).toBe(true);
  });
});
