/**
 * The cameras the ingest keeps state for, capped: each one costs memory (its history, its index)
 * and a line in every viewer poll, so a client inventing ids cannot grow either without bound.
 */
export class CameraLimit {
  readonly #known = new Set<string>();
  readonly #max: number;

  constructor(max: number, known: Iterable<string> = []) {
    this.#max = max;
    for (const id of known) this.#known.add(id);
  }

  get max(): number {
    return this.#max;
  }

  has(id: string): boolean {
    return this.#known.has(id);
  }

  /** Whether `id` may be stored: known already, or a new one while there is room (then known). */
  admit(id: string): boolean {
    if (this.#known.has(id)) return true;
    if (this.#known.size >= this.#max) return false;
    this.#known.add(id);
    return true;
  }
}
