import { describe, expect, it } from 'vitest';
import { scheduling } from '../helpers/segment-queue.js';

describe('UploadScheduler retry with live-first', () => {
  it('keeps a refused live segment live: after the outage it goes before the backlog', () => {
    const s = scheduling('live-first', 1);
    // An outage: segments 1 … 3 closed by capture while the ingest refused them.
    for (const sequence of [1, 2, 3]) s.add('y', sequence, true);
    expect(s.scheduler.next()).toEqual({ camera: 'y', sequence: 3, live: true });
    s.scheduler.retry('y', 3);
    // The outage ends while 3 is still the newest: it goes first, still live.
    const again = s.scheduler.next()!;
    expect(again).toEqual({ camera: 'y', sequence: 3, live: true });
    s.deliver(again);
    // Then the backlog, oldest first.
    expect(s.scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
    s.scheduler.retry('y', 1);
    const first = s.scheduler.next()!;
    expect(first).toEqual({ camera: 'y', sequence: 1, live: false });
    s.deliver(first);
    expect(s.scheduler.next()).toEqual({ camera: 'y', sequence: 2, live: false });
  });

  it('a newer live segment still overtakes the refused one', () => {
    const s = scheduling('live-first', 1);
    s.add('y', 1, true);
    expect(s.scheduler.next()?.sequence).toBe(1);
    s.add('y', 2, true);
    s.scheduler.retry('y', 1);
    const live = s.scheduler.next()!;
    expect(live).toEqual({ camera: 'y', sequence: 2, live: true });
    s.deliver(live);
    expect(s.scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
  });

  it('drains a backlog that piled up behind a slow upload oldest first, after the newest', () => {
    const s = scheduling('live-first', 1);
    s.add('y', 0, true);
    const slow = s.scheduler.next()!;
    expect(slow.sequence).toBe(0);
    for (const sequence of [1, 2, 3]) s.add('y', sequence, true);
    s.deliver(slow);
    const newest = s.scheduler.next()!;
    expect(newest).toEqual({ camera: 'y', sequence: 3, live: true });
    s.deliver(newest);
    // 2 is not the live edge once 3 has gone: the backlog goes oldest first.
    expect(s.scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
  });

  it('fifo retries in sequence order, as before', () => {
    const s = scheduling('fifo', 1);
    for (const sequence of [1, 2]) s.add('y', sequence, true);
    expect(s.scheduler.next()?.sequence).toBe(1);
    s.scheduler.retry('y', 1);
    expect(s.scheduler.next()?.sequence).toBe(1);
  });
});
