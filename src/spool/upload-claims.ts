/**
 * Single flight: a pending segment is sent by one request at a time, and one being sent is never
 * evicted under it. No I/O.
 */
export class UploadClaims {
  readonly #claimed = new Set<number>();

  /** False when the segment is not pending (`pending` says) or another request has it. */
  claim(sequence: number, pending: boolean): boolean {
    if (!pending || this.#claimed.has(sequence)) return false;
    this.#claimed.add(sequence);
    return true;
  }

  release(sequence: number): void {
    this.#claimed.delete(sequence);
  }

  has(sequence: number): boolean {
    return this.#claimed.has(sequence);
  }
}
