/** A repeat within this window is the same stop request, not a second one. */
export const REPEAT_WINDOW_MS = 1000;

/**
 * The process's signals, all in this file (the bin shim only keeps those that arrive while the CLI
 * loads). SIGTERM/SIGINT: the first starts a graceful stop, a later one forces an
 * immediate exit (the spool on disk is consistent at every moment, so nothing is lost).
 * `timeout(1)` signals both the relay and its process group, so one stop often arrives twice
 * within milliseconds: such a repeat is ignored, or the wrapper would skip the drain.
 */
export class ShutdownSignals {
  readonly #onFirst: (signal: NodeJS.Signals) => void;
  readonly #onSecond: (signal: NodeJS.Signals) => void;
  #firstAt: number | undefined;
  readonly #handler = (signal: NodeJS.Signals) => {
    if (this.#firstAt === undefined) {
      this.#firstAt = performance.now();
      this.#onFirst(signal);
    } else if (performance.now() - this.#firstAt >= REPEAT_WINDOW_MS) {
      this.#onSecond(signal);
    }
  };

  constructor(onFirst: (signal: NodeJS.Signals) => void, onSecond: (signal: NodeJS.Signals) => void) {
    this.#onFirst = onFirst;
    this.#onSecond = onSecond;
  }

  /** Handle a signal that was caught before these handlers existed (while the CLI loaded). */
  deliver(signal: NodeJS.Signals): void {
    this.#handler(signal);
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

/** SIGHUP re-reads the config file; another SIGHUP during a reload waits for it. */
export function onReloadSignal(reload: () => Promise<void>): () => void {
  let queue = Promise.resolve();
  const handler = () => {
    queue = queue.then(reload);
  };
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}
