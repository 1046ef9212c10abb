import type { SegmentProber } from '../spool/salvage.js';
import { runToCompletion } from './exec.js';

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
    let timebase = 1 / 90_000;
    let first: number | undefined;
    let last = 0;
    let packets = 0;
    for (const line of result.stdout.split('\n')) {
      const tb = /^#tb 0: (\d+)\/(\d+)/.exec(line);
      if (tb) timebase = Number(tb[1]) / Number(tb[2]);
      const fields = line.split(',').map((f) => f.trim());
      if (line.startsWith('#') || fields.length < 5) continue;
      const pts = Number(fields[2]);
      const duration = Number(fields[3]);
      if (!Number.isFinite(pts)) continue;
      packets++;
      first ??= pts;
      last = Math.max(last, pts + (Number.isFinite(duration) ? duration : 0));
    }
    return { packets, durationS: first === undefined ? 0 : Math.max(0, (last - first) * timebase) };
  };
}
