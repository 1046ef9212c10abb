import { stat, truncate, unlink } from 'node:fs/promises';
import type { SegmentProber } from '../camera/probe-segment.js';

const TS_PACKET = 188;

export type SalvageResult =
  | { readonly kept: true; readonly bytes: number; readonly durationS: number; readonly mtimeMs: number }
  | { readonly kept: false; readonly bytes: number };

/**
 * A segment ffmpeg was still writing when it died: cut it to whole TS packets and keep it when
 * it holds decodable video; otherwise delete it (the caller records the loss).
 */
export async function salvagePartial(file: string, probe: SegmentProber): Promise<SalvageResult> {
  const info = await stat(file);
  const whole = info.size - (info.size % TS_PACKET);
  if (whole !== info.size) await truncate(file, whole);
  const video = whole > 0 ? await probe(file) : { packets: 0, durationS: 0 };
  if (video.packets > 0)
    return { kept: true, bytes: whole, durationS: video.durationS, mtimeMs: info.mtimeMs };
  await unlink(file).catch(() => {});
  return { kept: false, bytes: info.size };
}
