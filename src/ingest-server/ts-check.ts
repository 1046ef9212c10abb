/** One MPEG-TS packet: a sync byte, then 187 bytes. */
export const TS_PACKET = 188;
const SYNC = 0x47;
const PTS_HZ = 90_000;

/**
 * Checks a segment body as it streams in: every 188th byte must be the MPEG-TS sync byte, so a
 * body of zeros or text is refused while it arrives, not stored. On the way it notes the first
 * PES presentation timestamp (PTS), which tells the playlist where ffmpeg's clock restarted.
 * A torn last packet (a segment salvaged after a crash) is tolerated; a body with no whole
 * packet is not video.
 */
export class TsChecker {
  /** Bytes of a packet cut by a chunk boundary, waiting for the rest. */
  #carry: Buffer = Buffer.alloc(0);
  #packets = 0;
  #bad = false;
  #firstPts: number | null = null;

  /** Feed the next chunk; false once the body has proved not to be MPEG-TS. */
  push(chunk: Buffer): boolean {
    if (this.#bad) return false;
    let data = chunk;
    if (this.#carry.length > 0) {
      const need = TS_PACKET - this.#carry.length;
      if (chunk.length < need) {
        this.#carry = Buffer.concat([this.#carry, chunk]);
        return true;
      }
      this.#packet(Buffer.concat([this.#carry, chunk.subarray(0, need)]));
      data = chunk.subarray(need);
      this.#carry = Buffer.alloc(0);
    }
    let at = 0;
    for (; at + TS_PACKET <= data.length && !this.#bad; at += TS_PACKET) {
      this.#packet(data.subarray(at, at + TS_PACKET));
    }
    if (!this.#bad && at < data.length) {
      // The start of a packet: its sync byte can be judged now, the rest later.
      if (data[at] !== SYNC) this.#bad = true;
      else this.#carry = Buffer.from(data.subarray(at));
    }
    return !this.#bad;
  }

  /** True when the whole body was MPEG-TS: at least one whole packet, every sync byte in place. */
  get valid(): boolean {
    return !this.#bad && this.#packets > 0;
  }

  /** The first PES PTS in seconds (33-bit clock, so it wraps after ~26.5 h), or null. */
  get firstPtsS(): number | null {
    return this.#firstPts === null ? null : this.#firstPts / PTS_HZ;
  }

  #packet(p: Buffer): void {
    if (p[0] !== SYNC) {
      this.#bad = true;
      return;
    }
    this.#packets++;
    if (this.#firstPts === null) this.#firstPts = pesPts(p);
  }
}

/** The PTS of a PES that starts in this packet (audio or video stream ids), else null. */
function pesPts(p: Buffer): number | null {
  const payloadStart = (p[1]! & 0x40) !== 0;
  const adaptation = (p[3]! >> 4) & 0x3;
  if (!payloadStart || (adaptation & 0x1) === 0) return null;
  const at = adaptation === 0x3 ? 5 + p[4]! : 4;
  if (at + 14 > p.length) return null;
  if (p[at] !== 0 || p[at + 1] !== 0 || p[at + 2] !== 1) return null;
  const streamId = p[at + 3]!;
  if (streamId < 0xc0 || streamId > 0xef) return null;
  if ((p[at + 7]! & 0x80) === 0) return null; // no PTS
  const b = p.subarray(at + 9, at + 14);
  // 33 bits spread over 5 bytes with marker bits; multiply, not shift: they pass 2^31.
  return ((b[0]! >> 1) & 0x07) * 2 ** 30 + (b[1]! << 22) + ((b[2]! >> 1) << 15) + (b[3]! << 7) + (b[4]! >> 1);
}

/** What a segment carries, as its PMT's stream types say (no decoding): null when absent. */
export interface TsCodecs {
  readonly video: string | null;
  readonly audio: string | null;
}

/** ISO 13818-1 stream_type → codec, for what cameras and ffmpeg put in MPEG-TS. */
const STREAM_TYPES: ReadonlyMap<number, { kind: 'video' | 'audio'; codec: string }> = new Map([
  [0x01, { kind: 'video', codec: 'mpeg1video' }],
  [0x02, { kind: 'video', codec: 'mpeg2video' }],
  [0x10, { kind: 'video', codec: 'mpeg4' }],
  [0x1b, { kind: 'video', codec: 'h264' }],
  [0x24, { kind: 'video', codec: 'h265' }],
  [0x03, { kind: 'audio', codec: 'mp3' }],
  [0x04, { kind: 'audio', codec: 'mp2' }],
  [0x0f, { kind: 'audio', codec: 'aac' }],
  [0x11, { kind: 'audio', codec: 'aac_latm' }],
  [0x81, { kind: 'audio', codec: 'ac3' }],
  [0x87, { kind: 'audio', codec: 'eac3' }],
] as const);

/**
 * Read the codecs of an MPEG-TS segment from its first PAT and PMT (ffmpeg writes both in the
 * first packets of every segment); null when `data` holds no PMT. Sections are taken to fit in
 * one packet, as a camera's few streams always do.
 */
export function readTsCodecs(data: Buffer): TsCodecs | null {
  let pmtPid: number | undefined;
  for (let at = 0; at + TS_PACKET <= data.length; at += TS_PACKET) {
    const p = data.subarray(at, at + TS_PACKET);
    if (p[0] !== SYNC) return null;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const section = psiSection(p);
    if (!section) continue;
    if (pid === 0 && section[0] === 0x00) pmtPid = firstProgramPid(section);
    else if (pid === pmtPid && section[0] === 0x02) return pmtCodecs(section);
  }
  return null;
}

/** The PSI section starting in this packet (after its pointer field), or undefined. */
function psiSection(p: Buffer): Buffer | undefined {
  const payloadStart = (p[1]! & 0x40) !== 0;
  const adaptation = (p[3]! >> 4) & 0x3;
  if (!payloadStart || (adaptation & 0x1) === 0) return undefined;
  const payload = adaptation === 0x3 ? 5 + p[4]! : 4;
  const at = payload + 1 + (p[payload] ?? 0);
  if (at + 3 > p.length) return undefined;
  const length = ((p[at + 1]! & 0x0f) << 8) | p[at + 2]!;
  return p.subarray(at, Math.min(p.length, at + 3 + length));
}

/** The PMT PID of the PAT's first program (program 0 is the network PID). */
function firstProgramPid(pat: Buffer): number | undefined {
  // 8 header bytes, 4-byte entries, a 4-byte CRC at the end.
  for (let at = 8; at + 4 <= pat.length - 4; at += 4) {
    const program = (pat[at]! << 8) | pat[at + 1]!;
    if (program !== 0) return ((pat[at + 2]! & 0x1f) << 8) | pat[at + 3]!;
  }
  return undefined;
}

function pmtCodecs(pmt: Buffer): TsCodecs {
  let video: string | null = null;
  let audio: string | null = null;
  const programInfo = ((pmt[10]! & 0x0f) << 8) | pmt[11]!;
  for (let at = 12 + programInfo; at + 5 <= pmt.length - 4; ) {
    const known = STREAM_TYPES.get(pmt[at]!);
    if (known?.kind === 'video') video ??= known.codec;
    if (known?.kind === 'audio') audio ??= known.codec;
    at += 5 + (((pmt[at + 3]! & 0x0f) << 8) | pmt[at + 4]!);
  }
  return { video, audio };
}
