import { rename, stat, unlink } from 'node:fs/promises';
import { type SegmentRecord, segmentEnd } from './journal.js';
import { segmentName, segmentSequence } from './naming.js';
import { durableRecord } from './run-dir.js';
import type { SpoolLosses } from './spool-losses.js';
import { pathIn, type SpoolParts } from './spool-parts.js';
import type { ClosedSegment } from './spool-roles.js';

/**
 * How segments come into one camera's spool: closed by capture, or taken over from an earlier
 * run. Each is held from delivery until it is journaled (and, from capture, within the bound),
 * then offered.
 */

/**
 * A segment ffmpeg closed: fsync it (it only counts once durable), index it, journal it, then
 * enforce the size bound by evicting the oldest pending segments.
 */
export async function addClosed(
  parts: SpoolParts,
  losses: SpoolLosses,
  segment: ClosedSegment,
): Promise<SegmentRecord | undefined> {
  const record = await durableOrLost(parts, losses, segment);
  if (!record) return undefined;
  const { sequence, bytes } = record;
  const { emit, delivery, quota, disk } = parts;
  if (bytes === 0 && !segment.emptyIsLoss) {
    await unlink(pathIn(parts, record)).catch(() => {});
    emit({ type: 'segment', phase: 'discarded', sequence, bytes, reason: 'empty' });
    return undefined;
  }
  await losses.declareHoleBefore(record);
  parts.timeline.captured(segmentEnd(record));
  // Offered to delivery once journaled and within the bound, not before.
  delivery.hold(sequence);
  parts.index.add(record);
  emit({
    type: 'segment',
    phase: 'closed',
    sequence,
    bytes,
    durationS: record.durationS,
    ...(record.clockJumpS === undefined ? {} : { clockJumpS: record.clockJumpS }),
  });
  if (bytes === 0) {
    // ffmpeg listed a segment it could not write (a full disk): its video is lost, loudly.
    await losses.drop(sequence, 'write-failed');
    return undefined;
  }
  if (segment.final && quota.exceeded) {
    // At a stop, a short last segment is worth less than the complete one it would evict.
    await losses.drop(sequence, 'evicted');
    return undefined;
  }
  await parts.record({ op: 'add', segment: record });
  await losses.enforceBounds(sequence);
  // ffmpeg has just begun the next segment: make sure the disk can take it.
  disk.noteClosed(sequence, bytes);
  await disk.keepRoom();
  delivery.offer(sequence, true);
  return record;
}

/**
 * Take over a segment of an earlier run, journaled first, then moved into this dir, keeping
 * its start and key. A sequence this spool already holds (two dead runs that numbered from the
 * same point) is renumbered rather than overwritten.
 */
export async function adoptSegment(
  parts: SpoolParts,
  record: SegmentRecord,
  fromPath: string,
): Promise<SegmentRecord> {
  const { index, delivery, emit } = parts;
  let adopted = record;
  if (index.has(record.sequence) || (await exists(pathIn(parts, record)))) {
    const sequence = index.nextSequence;
    adopted = { ...record, sequence, name: segmentName(sequence) };
    emit({
      type: 'log',
      level: 'warn',
      message: `two earlier runs both used sequence ${record.sequence}: adopting ${fromPath} as ${sequence}`,
    });
  }
  delivery.hold(adopted.sequence);
  index.add(adopted);
  parts.timeline.captured(segmentEnd(adopted));
  await parts.record({ op: 'add', segment: adopted });
  await rename(fromPath, pathIn(parts, adopted));
  delivery.offer(adopted.sequence, false);
  emit({ type: 'segment', phase: 'adopted', sequence: adopted.sequence, bytes: adopted.bytes });
  return adopted;
}

/** The closed segment's record; undefined (said, and a lost one recorded) when there is none. */
async function durableOrLost(
  parts: SpoolParts,
  losses: SpoolLosses,
  segment: ClosedSegment,
): Promise<SegmentRecord | undefined> {
  const sequence = segmentSequence(segment.name);
  if (sequence === undefined) {
    parts.emit({ type: 'log', level: 'warn', message: `ignoring unexpected segment name ${segment.name}` });
    return undefined;
  }
  try {
    return await durableRecord(parts.dir, segment, sequence, {
      cameraId: parts.cameraId,
      runId: parts.runId,
    });
  } catch (error) {
    // Listed by ffmpeg, yet not there: its video is lost, and it is said so.
    const message = `segment ${segment.name} vanished: ${(error as Error).message}`;
    parts.emit({ type: 'log', level: 'warn', message });
    const { start, durationS } = segment;
    await losses.recordLost({ sequence, start, durationS, bytes: 0 }, 'write-failed');
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
