import { stat, truncate, unlink } from 'node:fs/promises';

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
