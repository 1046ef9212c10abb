import { describe, expect, it } from 'vitest';
import { UploadScheduler } from '../../src/uploader/upload-scheduler.js';

describe('UploadScheduler retry with live-first', () => {
  it('keeps a refused live segment live: after the outage it goes before the backlog', () => {
    const scheduler = new UploadScheduler('live-first', 1);
    // An outage: segments 1 … 3 closed by capture while the ingest refused them.
    for (const sequence of [1, 2, 3]) scheduler.add('y', sequence, true);
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 3, live: true });
    scheduler.retry('y', 3);
    // The outage ends while 3 is still the newest: it goes first, still live.
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 3, live: true });
    scheduler.finish('y', 3);
    // Then the backlog, oldest first.
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
    scheduler.retry('y', 1);
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
    scheduler.finish('y', 1);
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 2, live: false });
  });

  it('a newer live segment still overtakes the refused one', () => {
    const scheduler = new UploadScheduler('live-first', 1);
    scheduler.add('y', 1, true);
    expect(scheduler.next()?.sequence).toBe(1);
    scheduler.add('y', 2, true);
    scheduler.retry('y', 1);
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 2, live: true });
    scheduler.finish('y', 2);
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
  });

  it('drains a backlog that piled up behind a slow upload oldest first, after the newest', () => {
    const scheduler = new UploadScheduler('live-first', 1);
    scheduler.add('y', 0, true);
    expect(scheduler.next()?.sequence).toBe(0);
    for (const sequence of [1, 2, 3]) scheduler.add('y', sequence, true);
    scheduler.finish('y', 0);
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 3, live: true });
    scheduler.finish('y', 3);
    // 2 is not the live edge once 3 has gone: the backlog goes oldest first.
    expect(scheduler.next()).toEqual({ camera: 'y', sequence: 1, live: false });
  });

  it('fifo retries in sequence order, as before', () => {
    const scheduler = new UploadScheduler('fifo', 1);
    for (const sequence of [1, 2]) scheduler.add('y', sequence, true);
    expect(scheduler.next()?.sequence).toBe(1);
    scheduler.retry('y', 1);
    expect(scheduler.next()?.sequence).toBe(1);
  });
});
