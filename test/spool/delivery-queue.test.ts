import { describe, expect, it } from 'vitest';
import { DeliveryQueue } from '../../src/spool/delivery-queue.js';
import type { SegmentRecord } from '../../src/spool/journal.js';
import { segmentName } from '../../src/spool/naming.js';
import { SegmentIndex } from '../../src/spool/segment-index.js';

function record(sequence: number): SegmentRecord {
  const start = new Date(0).toISOString();
  return {
    name: segmentName(sequence),
    sequence,
    start,
    durationS: 2,
    bytes: 100,
    idempotencyKey: `k:${sequence}`,
  };
}

describe('DeliveryQueue (the spool’s waiting segments, as delivery asks for them)', () => {
  it('offers a segment only once the spool has settled it, and says so', () => {
    const index = new SegmentIndex(0);
    const queue = new DeliveryQueue(index);
    const told: Array<number | undefined> = [];
    queue.listen((closed) => told.push(closed));
    queue.hold(0);
    index.add(record(0));
    expect([queue.oldestWaiting(), queue.waitingCount]).toEqual([undefined, 0]);
    queue.offer(0, true);
    expect([queue.oldestWaiting(), queue.waitingCount]).toEqual([0, 1]);
    expect(told).toEqual([0]);
  });

  it('keeps sequence order whatever the arrival order (adoption may bring older segments)', () => {
    const index = new SegmentIndex(0);
    const queue = new DeliveryQueue(index);
    for (const sequence of [7, 3, 5]) {
      index.add(record(sequence));
      queue.offer(sequence, false);
    }
    expect([queue.oldestWaiting(), queue.newestWaiting()]).toEqual([3, 7]);
    queue.handOut(3);
    expect(queue.oldestWaiting()).toBe(5);
    queue.giveBack(3);
    expect(queue.oldestWaiting()).toBe(3);
  });

  it('forgets every mark of a segment taken out of the index: nothing stale is handed out', () => {
    const index = new SegmentIndex(0);
    const queue = new DeliveryQueue(index);
    for (const sequence of [1, 2]) {
      index.add(record(sequence));
      queue.offer(sequence, false);
    }
    queue.handOut(1);
    expect(queue.claim(1)).toBe(true);
    expect(queue.claim(1)).toBe(false);
    index.remove(1);
    queue.removed(1);
    queue.giveBack(1);
    expect([queue.oldestWaiting(), queue.waitingCount, queue.sending(1), queue.claim(1)]).toEqual([
      2,
      1,
      false,
      false,
    ]);
  });
});
