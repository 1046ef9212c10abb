/**
 * SIGTERM/SIGINT in one place: the first starts a graceful stop, a second one forces an
 * immediate exit (the spool on disk is consistent at every moment, so nothing is lost).
 */
export class ShutdownSignals {
  readonly #onFirst: (signal: NodeJS.Signals) => void;
  readonly #onSecond: (signal: NodeJS.Signals) => void;
  #count = 0;
  readonly #handler = (signal: NodeJS.Signals) => {
    this.#count++;
    if (this.#count === 1) this.#onFirst(signal);
    else this.#onSecond(signal);
  };

  constructor(onFirst: (signal: NodeJS.Signals) => void, onSecond: (signal: NodeJS.Signals) => void) {
    this.#onFirst = onFirst;
    this.#onSecond = onSecond;
  }

  install(): this {
    process.on('SIGTERM', this.#handler);
    process.on('SIGINT', this.#handler);
    return this;
  }

  dispose(): void {
    process.off('SIGTERM', this.#handler);
    process.off('SIGINT', this.#handler);
  }
}

/** Resolves on the first of several events, with which one it was. */
export function firstOf<T extends Record<string, Promise<unknown>>>(
  races: T,
): Promise<{ [K in keyof T]: { which: K; value: Awaited<T[K]> } }[keyof T]> {
  return Promise.race(
    Object.entries(races).map(([which, promise]) => promise.then((value) => ({ which, value }) as never)),
  );
}
