import { DeliveryQueue } from '../../src/spool/delivery-queue.js';
import type { SegmentRecord } from '../../src/spool/journal.js';
import { segmentName } from '../../src/spool/naming.js';
import { SegmentIndex } from '../../src/spool/segment-index.js';
import { type UploadJob, UploadScheduler } from '../../src/uploader/upload-scheduler.js';

/**
 * A camera's waiting segments as its spool keeps them (the real index and delivery queue, with no
 * files): what the scheduler and the pool ask for the next segment.
 */
export function segmentQueue() {
  const index = new SegmentIndex(0);
  const queue = new DeliveryQueue(index);
  return {
    queue,
    /** Spool a segment; `closed`: capture closed it in this run (else adopted, a backlog). */
    add(sequence: number, closed: boolean): void {
      const record: SegmentRecord = {
        name: segmentName(sequence),
        sequence,
        start: new Date(0).toISOString(),
        durationS: 2,
        bytes: 1000,
        idempotencyKey: `cam:test:${sequence}`,
      };
      queue.hold(sequence);
      index.add(record);
      queue.offer(sequence, closed);
    },
    /** Take it out of the spool (delivered, rejected, evicted). */
    remove(sequence: number): void {
      if (index.remove(sequence)) queue.removed(sequence);
    },
  };
}

/** A scheduler over spools of its own: `add` spools a segment, `deliver` settles a job. */
export function scheduling(order: 'fifo' | 'live-first', perCameraLimit: number) {
  const scheduler = new UploadScheduler(order, perCameraLimit);
  const spools = new Map<string, ReturnType<typeof segmentQueue>>();
  const spoolOf = (camera: string) => {
    let spool = spools.get(camera);
    if (!spool) {
      spool = segmentQueue();
      spools.set(camera, spool);
      scheduler.addCamera(camera, spool.queue);
    }
    return spool;
  };
  return {
    scheduler,
    spoolOf,
    /** Spool a segment; `live` when capture closed it (as the pool tells the scheduler). */
    add(camera: string, sequence: number, live: boolean): void {
      spoolOf(camera).add(sequence, live);
      if (live) scheduler.closed(camera, sequence);
    },
    /** The ingest took it: out of its spool, its job over. */
    deliver(job: UploadJob): void {
      spoolOf(job.camera).remove(job.sequence);
      scheduler.finish(job.camera, job.sequence);
    },
    /** Take jobs until none may go, delivering each at once (as a pool of one would). */
    drainOrder(): string[] {
      const order: string[] = [];
      for (let job = scheduler.next(); job; job = scheduler.next()) {
        order.push(`${job.camera}:${job.sequence}${job.live ? '*' : ''}`);
        this.deliver(job);
      }
      return order;
    },
  };
}
