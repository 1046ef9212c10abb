/** One line of ffmpeg's csv segment list: a segment that is closed and complete on disk. */
export interface SegmentListEntry {
  readonly name: string;
  readonly startS: number;
  readonly endS: number;
}

/** Parse `name,start,end` (ffmpeg quotes names holding commas or quotes); undefined if not such a line. */
export function parseSegmentListLine(line: string): SegmentListEntry | undefined {
  const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),(-?[\d.]+),(-?[\d.]+)\s*$/.exec(line.trim());
  if (!m) return undefined;
  const name = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!;
  const startS = Number(m[3]);
  const endS = Number(m[4]);
  if (!name || !Number.isFinite(startS) || !Number.isFinite(endS)) return undefined;
  return { name: name.replace(/^.*\//, ''), startS, endS };
}
