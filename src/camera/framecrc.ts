/** One packet of ffmpeg's `-f framecrc` output, its times in the stream's time base (ticks). */
export interface FramecrcPacket {
  readonly pts: number;
  /** The packet's duration; 0 when ffmpeg gives none. */
  readonly duration: number;
  /** framecrc prints `F=0x…` only when the flags differ from "keyframe"; bit 0 is the key flag. */
  readonly key: boolean;
}

/**
 * `ffmpeg … -map 0:v:0 -c copy -f framecrc -` → the stream's time base (seconds per tick, from
 * `#tb 0: 1/90000`) and its packets (`stream, dts, pts, duration, size, crc[, F=0x…]` lines).
 * Lines that are not packets are skipped. The one reader for doctor's source probe and the
 * spool's segment probe.
 */
export function parseFramecrc(text: string): { timebase: number; packets: FramecrcPacket[] } {
  let timebase = 1 / 90_000;
  const packets: FramecrcPacket[] = [];
  for (const line of text.split('\n')) {
    const tb = /^#tb 0: (\d+)\/(\d+)/.exec(line);
    if (tb) timebase = Number(tb[1]) / Number(tb[2]);
    if (line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 5) continue;
    const pts = Number(fields[2]);
    if (!Number.isFinite(pts)) continue;
    const duration = Number(fields[3]);
    const flags = fields.find((f) => f.startsWith('F=0x'));
    packets.push({
      pts,
      duration: Number.isFinite(duration) ? duration : 0,
      key: flags === undefined || (Number.parseInt(flags.slice(4), 16) & 1) === 1,
    });
  }
  return { timebase, packets };
}
