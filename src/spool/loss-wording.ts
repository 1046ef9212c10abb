import { round3 } from '../seconds.js';
import type { Emit } from '../telemetry/events.js';
import type { LossReason } from '../types.js';
import type { GapRecord, SegmentRecord } from './journal.js';

/** How the spool says a loss: one segment event for the metrics, one line for the operator. */

export function saidDropped(emit: Emit, record: SegmentRecord, reason: LossReason): void {
  emit({
    type: 'segment',
    phase: 'evicted',
    sequence: record.sequence,
    bytes: record.bytes,
    reason,
    durationS: record.durationS,
  });
  emit({
    type: 'log',
    level: 'warn',
    message: `dropped segment ${record.sequence} (${reason}, ${record.bytes} bytes, started ${record.start})`,
  });
}

export function saidLostCapture(
  emit: Emit,
  lost: { readonly sequence: number; readonly durationS: number; readonly bytes: number },
  reason: LossReason,
  startIso: string,
): void {
  const durationS = round3(lost.durationS);
  emit({
    type: 'segment',
    phase: 'evicted',
    sequence: lost.sequence,
    bytes: lost.bytes,
    reason,
    durationS,
  });
  emit({
    type: 'log',
    level: 'warn',
    message: `lost ${durationS} s of capture in segment ${lost.sequence} (${reason}, started ${startIso})`,
  });
}

/** Time with no video before segment `sequence`, declared to the cloud. */
export function saidHole(emit: Emit, sequence: number, hole: GapRecord): void {
  saidUncaptured(
    emit,
    sequence,
    hole,
    'warn',
    (s) => `${s} s before segment ${sequence}`,
    'declared to the cloud',
  );
}

/** The frames a stop cut off (on their way to ffmpeg): expected at every stop, so said as info. */
export function saidStopTail(emit: Emit, tail: GapRecord): void {
  const level = tail.reason === 'relay-stopped' ? 'info' : 'warn';
  const where = (s: number) => `the last ${s} s before the stop`;
  saidUncaptured(emit, tail.seqFrom, tail, level, where, 'declared to the cloud with the next segment sent');
}

/** The `uncaptured` event and its log line, in one wording for every hole. */
function saidUncaptured(
  emit: Emit,
  sequence: number,
  hole: GapRecord,
  level: 'info' | 'warn',
  where: (seconds: number) => string,
  fate: string,
): void {
  const seconds = round3((Date.parse(hole.end) - Date.parse(hole.start)) / 1000);
  const { reason } = hole;
  emit({ type: 'segment', phase: 'uncaptured', sequence, reason, durationS: seconds });
  emit({
    type: 'log',
    level,
    message: `no video for ${where(seconds)} (${reason}, from ${hole.start}): ${fate}`,
  });
}
