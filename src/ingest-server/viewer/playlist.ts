/** What a playlist needs to know of one stored segment. */
export interface PlaylistSegment {
  readonly file: string;
  readonly sequence: number | null;
  /** Wall-clock start (ISO-8601), from X-Segment-Start. */
  readonly start: string | null;
  /** Seconds, from X-Segment-Duration. */
  readonly duration: number | null;
  /** The first PES timestamp in the file, seconds (see ts-check.ts). */
  readonly firstPtsS: number | null;
  /** A discontinuity tag goes before this segment: its clock does not follow the one before. */
  readonly discontinuity: boolean;
}

/** A segment with no X-Segment-Duration is taken to last the relay's default. */
export const DEFAULT_DURATION_S = 10;
/** How far a clock may drift from where the previous segment ended before it counts as a jump. */
const JUMP_TOLERANCE_S = 1;

/**
 * Whether `next` cannot be played straight after `prev`: the sequence skips (segments lost or a
 * backlog out of order), or ffmpeg's timestamps (PTS) or the wall clock restart or leap (a relay
 * or ffmpeg restart). A player must then reset its decoder: HLS's EXT-X-DISCONTINUITY.
 */
export function isDiscontinuity(prev: PlaylistSegment | undefined, next: PlaylistSegment): boolean {
  if (prev === undefined) return false;
  if (prev.sequence !== null && next.sequence !== null && next.sequence !== prev.sequence + 1) return true;
  const duration = prev.duration ?? DEFAULT_DURATION_S;
  const tolerance = Math.max(JUMP_TOLERANCE_S, duration / 2);
  if (prev.firstPtsS !== null && next.firstPtsS !== null) {
    if (Math.abs(next.firstPtsS - (prev.firstPtsS + duration)) > tolerance) return true;
  }
  const [a, b] = [Date.parse(prev.start ?? ''), Date.parse(next.start ?? '')];
  if (Number.isFinite(a) && Number.isFinite(b) && Math.abs(b - (a + duration * 1000)) > tolerance * 1000) {
    return true;
  }
  return false;
}

export interface PlaylistWindow {
  /** EXT-X-MEDIA-SEQUENCE: how many segments of this camera left the playlist before the first. */
  readonly mediaSequence: number;
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that left with them. */
  readonly discontinuitySequence: number;
  readonly segments: readonly PlaylistSegment[];
}

/**
 * An HLS media playlist (RFC 8216) of the stored segments in arrival order. Live (the default):
 * append-only, so a player polling it never sees a segment move. `vod`: what is stored now, ended
 * (EXT-X-ENDLIST), for ffmpeg/ffprobe to read to the end. `uri` names a segment relative to it.
 */
export function renderPlaylist(
  window: PlaylistWindow,
  uri: (file: string) => string,
  kind: 'live' | 'vod' = 'live',
): string {
  const durations = window.segments.map((s) => s.duration ?? DEFAULT_DURATION_S);
  const target = Math.max(1, ...durations.map((d) => Math.ceil(d)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${window.mediaSequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`,
    ...(kind === 'vod' ? ['#EXT-X-PLAYLIST-TYPE:VOD'] : []),
  ];
  window.segments.forEach((segment, i) => {
    if (segment.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
    const start = Date.parse(segment.start ?? '');
    if (Number.isFinite(start)) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(start).toISOString()}`);
    lines.push(`#EXTINF:${durations[i]!.toFixed(3)},`, uri(segment.file));
  });
  if (kind === 'vod') lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
