import { stat, truncate, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Emit } from '../telemetry/events.js';
import type { LossReason } from '../types.js';
import type { SegmentRecord } from './journal.js';
import type { LostCapture } from './spool-roles.js';

const TS_PACKET = 188;
/**
 * A file this small without a video packet held only tables (PAT/PMT) and no frame: nothing was
 * captured into it. Anything bigger with no decodable video is capture that was lost.
 */
const NO_FRAME_BYTES = 4 * TS_PACKET;

export interface VideoProbe {
  /** Video packets that demux cleanly. */
  readonly packets: number;
  readonly durationS: number;
}

/**
 * Measures the video in a (possibly truncated) MPEG-TS file. Rejects when it cannot tell (the
 * prober failed to run or timed out): that is never taken for "no video".
 */
export type SegmentProber = (file: string) => Promise<VideoProbe>;

export type SalvageResult =
  /** Holds video: cut to whole TS packets and kept, `durationS` measured. */
  | { readonly kind: 'kept'; readonly bytes: number; readonly durationS: number; readonly mtimeMs: number }
  /** Could not be probed: kept whole (the ingest gets the bytes), its duration unknown. */
  | { readonly kind: 'unprobed'; readonly bytes: number; readonly mtimeMs: number; readonly why: string }
  /** No frame was ever written into it: deleted, nothing lost. */
  | { readonly kind: 'empty'; readonly bytes: number }
  /** Bytes but no decodable video: deleted; the caller records the lost capture. */
  | { readonly kind: 'lost'; readonly bytes: number; readonly mtimeMs: number };

/**
 * A segment ffmpeg was still writing when it died (ffmpeg writes each packet through, so the
 * file holds what was captured up to then): cut it to whole TS packets and keep what holds video.
 */
export async function salvagePartial(file: string, probe: SegmentProber): Promise<SalvageResult> {
  const info = await stat(file);
  const whole = info.size - (info.size % TS_PACKET);
  if (whole !== info.size) await truncate(file, whole);
  if (whole === 0) {
    await unlink(file).catch(() => {});
    return { kind: 'empty', bytes: info.size };
  }
  let video: VideoProbe;
  try {
    video = await probe(file);
  } catch (error) {
    return { kind: 'unprobed', bytes: whole, mtimeMs: info.mtimeMs, why: String(error) };
  }
  if (video.packets > 0)
    return { kind: 'kept', bytes: whole, durationS: video.durationS, mtimeMs: info.mtimeMs };
  await unlink(file).catch(() => {});
  return whole <= NO_FRAME_BYTES
    ? { kind: 'empty', bytes: info.size }
    : { kind: 'lost', bytes: info.size, mtimeMs: info.mtimeMs };
}

/** Where salvaged files go in time: each right after the last video placed. */
export interface SalvageClock {
  /** Seconds from the end of the last placed video to `mtimeMs` (0 when none was placed). */
  sinceLastEndS(mtimeMs: number): number;
  /** Start of a salvaged stretch: right after the last one, else its file time minus its length. */
  next(durationS: number, mtimeMs: number): Date;
}

/** What becomes of a salvaged file: kept as a segment, or its capture recorded as lost. */
export interface SalvageTarget {
  /** Keep it; undefined when the spool would not (it says why). */
  keep(start: Date, durationS: number, bytes: number): Promise<SegmentRecord | undefined>;
  recordLost(lost: LostCapture, reason: LossReason): Promise<void>;
}

/**
 * What a salvaged file (one nobody announced: its ffmpeg or its relay died) becomes: what holds
 * video is kept, what held video that cannot be decoded is recorded as lost capture (never
 * dropped in silence), an empty one is counted.
 */
export async function settleSalvage(
  result: SalvageResult,
  file: string,
  sequence: number,
  clock: SalvageClock,
  target: SalvageTarget,
  emit: Emit,
): Promise<SegmentRecord | undefined> {
  switch (result.kind) {
    case 'kept':
    case 'unprobed': {
      const durationS = result.kind === 'kept' ? result.durationS : clock.sinceLastEndS(result.mtimeMs);
      const record = await target.keep(clock.next(durationS, result.mtimeMs), durationS, result.bytes);
      if (!record) return undefined;
      emit({ type: 'segment', phase: 'salvaged', sequence, bytes: result.bytes });
      if (result.kind === 'unprobed')
        emit({ type: 'log', level: 'warn', message: `kept ${basename(file)} unprobed: ${result.why}` });
      return record;
    }
    case 'lost': {
      const durationS = clock.sinceLastEndS(result.mtimeMs);
      const start = clock.next(durationS, result.mtimeMs);
      await target.recordLost({ sequence, start, durationS, bytes: result.bytes }, 'unsalvageable');
      return undefined;
    }
    case 'empty':
      // No frame was written into it: nothing was lost, but it is counted.
      emit({ type: 'segment', phase: 'discarded', sequence, bytes: result.bytes, reason: 'empty' });
      return undefined;
  }
}

/** A SalvageClock for files of a dead run: after its last journaled segment, if any. */
export class AfterLastSegment implements SalvageClock {
  #lastEndMs: number | undefined;

  /** Where the last placed video ends (ms since the epoch), if any was placed. */
  get lastEndMs(): number | undefined {
    return this.#lastEndMs;
  }

  /** Video up to `endMs` is placed already (a journaled segment). */
  follow(endMs: number): void {
    this.#lastEndMs = endMs;
  }

  sinceLastEndS(mtimeMs: number): number {
    return this.#lastEndMs === undefined ? 0 : Math.max(0, (mtimeMs - this.#lastEndMs) / 1000);
  }

  next(durationS: number, mtimeMs: number): Date {
    const startMs = this.#lastEndMs ?? mtimeMs - durationS * 1000;
    this.#lastEndMs = startMs + durationS * 1000;
    return new Date(startMs);
  }
}
