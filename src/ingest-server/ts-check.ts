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
