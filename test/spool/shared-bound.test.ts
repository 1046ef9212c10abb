import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { segmentName } from '../../src/spool/naming.js';
import { SharedSpoolBound } from '../../src/spool/shared-bound.js';
import { Spool } from '../../src/spool/spool.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';

describe('SharedSpoolBound (--max-total-spool-mb)', () => {
  it("evicts the oldest pending segment of all cameras, loudly, through that camera's spool", async () => {
    const root = mkdtempSync(join(tmpdir(), 'shared-bound-'));
    const bus = new EventBus();
    const events: StampedEvent[] = [];
    bus.on((e) => events.push(e));
    const bound = new SharedSpoolBound(3500);
    const open = (cameraId: string) =>
      Spool.create({ root, cameraId, maxBytes: 1e9, sharedBound: bound, emit: bus.forCamera(cameraId) });
    const [a, b] = [await open('cam-a'), await open('cam-b')];
    const close = async (spool: Spool, startS: number) => {
      const name = segmentName(spool.nextSequence);
      writeFileSync(join(spool.dir, name), Buffer.alloc(1000, 0x47));
      return spool.addClosed({ name, start: new Date(Date.UTC(2026, 11, 1, 10, 0, startS)), durationS: 2 });
    };
    await close(a, 0);
    await close(b, 2);
    await close(a, 4);
    expect(bound.usedBytes).toBe(3000);
    // The fourth segment (b's) goes past 3500: a's oldest (started at :00) is the one evicted.
    await close(b, 6);
    expect(bound.usedBytes).toBe(3000);
    expect(a.pendingCount).toBe(1);
    expect(b.pendingCount).toBe(2);
    const evicted = events.filter((e) => e.type === 'segment' && e.phase === 'evicted');
    expect(evicted.map((e) => e.camera)).toEqual(['cam-a']);
    expect(a.gaps()).toHaveLength(1);
    // A closed spool no longer counts.
    await a.close();
    expect(bound.usedBytes).toBe(2000);
    await b.close();
  });
});
