import type { SegmentProber } from '../spool/salvage.js';
import { runToCompletion } from './exec.js';
import { parseFramecrc } from './framecrc.js';

const PROBE_TIMEOUT_MS = 30_000;

/**
 * Demux the video stream to framecrc (one line per packet) and measure what is there, with
 * ffmpeg itself: ffprobe is not always installed. `signal` ends a probe early (a stop's budget).
 */
export function ffmpegProber(ffmpegPath: string, signal?: AbortSignal): SegmentProber {
  return async (file) => {
    const args = [
      '-hide_banner',
      '-nostdin',
      '-v',
      'error',
      // Always MPEG-TS: a partial segment of a few packets is otherwise taken for MPEG-PS and
      // fails to open, which would read as "no video" and drop capture that is there.
      '-f',
      'mpegts',
      '-i',
      file,
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'framecrc',
      '-',
    ];
    const result = await runToCompletion(ffmpegPath, args, PROBE_TIMEOUT_MS, signal);
    // Not knowing is not "no video": the caller keeps the file.
    if (result.incomplete) throw new Error(`probing ${file} did not finish: ${result.stderr.slice(-200)}`);
    const { timebase, packets } = parseFramecrc(result.stdout);
    const first = packets[0]?.pts;
    let last = 0;
    for (const p of packets) last = Math.max(last, p.pts + p.duration);
    return {
      packets: packets.length,
      durationS: first === undefined ? 0 : Math.max(0, (last - first) * timebase),
    };
  };
}
