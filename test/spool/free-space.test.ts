import { describe, expect, it } from 'vitest';
import { FreeSpaceGuard, METADATA_MARGIN_BYTES, type SpaceReader } from '../../src/spool/free-space.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';

const BLOCK = 4096;

/** A filesystem of `free` bytes where each eviction frees `perSegment`. */
function disk(free: number, perSegment: number, pending: number) {
  const state = { free, pending, evicted: 0 };
  const read: SpaceReader = async () => ({ freeBytes: state.free, blockSize: BLOCK });
  const evictOldest = async () => {
    if (state.pending === 0) return false;
    state.pending--;
    state.evicted++;
    state.free += perSegment;
    return true;
  };
  return { state, read, evictOldest, pending: () => state.pending };
}

function logs() {
  const bus = new EventBus();
  const seen: StampedEvent[] = [];
  bus.on((e) => seen.push(e));
  return { emit: bus.forCamera('cam'), messages: () => seen.map((e) => ('message' in e ? e.message : '')) };
}

describe('FreeSpaceGuard', () => {
  it('keeps room for twice the largest recent segment, in whole blocks, plus the journal and a margin', () => {
    const guard = new FreeSpaceGuard('/spool', logs().emit);
    expect(guard.headroom(0)).toBe(METADATA_MARGIN_BYTES);
    guard.noteSegment(5000);
    guard.noteSegment(9000); // 3 blocks
    expect(guard.headroom(10)).toBe(2 * 3 * BLOCK + METADATA_MARGIN_BYTES + 10 * 320);
    // Only the recent ones count: a large segment long ago no longer inflates it.
    for (let i = 0; i < 8; i++) guard.noteSegment(100);
    expect(guard.headroom(0)).toBe(2 * BLOCK + METADATA_MARGIN_BYTES);
  });

  it('evicts the oldest segments until the headroom is free, no more, and says so', async () => {
    const { emit, messages } = logs();
    const need = 2 * 40 * 1024 + METADATA_MARGIN_BYTES + 17 * 320;
    const d = disk(need - 100 * 1024, 40 * 1024, 20);
    const guard = new FreeSpaceGuard('/spool', emit, d.read);
    guard.noteSegment(40 * 1024);
    await guard.makeRoom(d.pending, d.evictOldest);
    // 100 KiB short, 40 KiB per segment: three go, leaving 17 in the journal.
    expect(d.state.evicted).toBe(3);
    expect(messages().join('\n')).toMatch(/disk is nearly full .* evicted 3 segment\(s\)/);
    await guard.makeRoom(d.pending, d.evictOldest);
    expect(d.state.evicted).toBe(3);
  });

  it('says once that it is short with nothing left to evict, and once that there is room again', async () => {
    const { emit, messages } = logs();
    const d = disk(1024, 0, 0);
    const guard = new FreeSpaceGuard('/spool', emit, d.read);
    await guard.makeRoom(d.pending, d.evictOldest);
    await guard.makeRoom(d.pending, d.evictOldest);
    expect(messages().filter((m) => /nothing more of this camera can be evicted/.test(m))).toHaveLength(1);
    d.state.free = 10 * 1024 * 1024;
    await guard.makeRoom(d.pending, d.evictOldest);
    expect(messages().at(-1)).toBe("the spool's disk has room again");
  });

  it('evicts nothing on a guess when the free space cannot be read', async () => {
    const { emit, messages } = logs();
    const guard = new FreeSpaceGuard('/spool', emit, async () => undefined);
    const d = disk(0, 1000, 5);
    await guard.makeRoom(d.pending, d.evictOldest);
    expect(d.state.evicted).toBe(0);
    expect(messages()).toEqual([]);
  });
});
