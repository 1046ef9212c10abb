/**
 * Read buffers for segment bodies, reused instead of allocated per chunk.
 *
 * Why: a fresh 64 KiB buffer per chunk lives outside V8's heap, and V8 collects such memory only
 * when tens of MiB of it have piled up: draining a backlog raised the relay's peak RSS from 74 to
 * 114 MiB (`npm run bench`, memory). A request reads into its own small ring of buffers instead,
 * and rings go back to a shared free list when the request is over.
 *
 * Why a ring of RING_SIZE is safe to overwrite in turn: a chunk is referenced downstream until the
 * socket has written it. Readable.from holds at most one chunk ahead, and undici writes the next
 * chunk only after the socket drained whenever a write filled its buffer (a 64 KiB chunk always
 * does: a socket's high-water mark is at most 64 KiB). So at most two chunks are out of our hands
 * while the third is read; the fourth slot is margin. A ring is given back only after the request
 * settled and its body stream was destroyed; undici resets a connection whose answer came before
 * the whole body was written, so no write of the finished request can read a reused buffer.
 */
export const READ_CHUNK_BYTES = 64 * 1024;
const RING_SIZE = 4;
/** Rings kept for later requests; more than the upload concurrency's worth are dropped. */
const MAX_FREE_RINGS = 8;

export class ReadRing {
  readonly #buffers: Buffer[];
  #next = 0;

  constructor() {
    this.#buffers = Array.from({ length: RING_SIZE }, () => Buffer.allocUnsafe(READ_CHUNK_BYTES));
  }

  /** The buffer to read the next chunk into (the one handed out RING_SIZE chunks ago). */
  next(): Buffer {
    const buffer = this.#buffers[this.#next]!;
    this.#next = (this.#next + 1) % RING_SIZE;
    return buffer;
  }
}

const free: ReadRing[] = [];

export function takeRing(): ReadRing {
  return free.pop() ?? new ReadRing();
}

/** Only once nothing downstream can still hold one of its buffers (see above). */
export function giveBackRing(ring: ReadRing): void {
  if (free.length < MAX_FREE_RINGS) free.push(ring);
}
