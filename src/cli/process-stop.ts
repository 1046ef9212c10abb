import { ExitCode } from '../errors.js';
import { ShutdownSignals } from './signals.js';

/** Signals the bin shim caught while the CLI was still loading. */
export interface EarlySignals {
  readonly signals: readonly NodeJS.Signals[];
  /** Remove the shim's own handlers (ours are installed by then). */
  release(): void;
}

/**
 * The process's stop, in one place: the first SIGTERM/SIGINT (or a stop the CLI requests
 * itself) aborts `signal`, which every phase of a command watches; a second signal, or a stop
 * that overruns its budget, runs the registered last-moment callbacks and exits at once. The
 * journal on disk is consistent at every moment, so such an exit loses nothing.
 */
export class ProcessStop {
  readonly #controller = new AbortController();
  readonly #onForce = new Set<(why: string) => void>();
  readonly #signals: ShutdownSignals;
  #guard: NodeJS.Timeout | undefined;

  constructor(early?: EarlySignals) {
    this.#signals = new ShutdownSignals(
      (signal) => this.request(signal),
      (signal) => this.force(`second ${signal}`, ExitCode.interrupted),
    ).install();
    early?.release();
    for (const signal of early?.signals ?? []) this.#signals.deliver(signal);
  }

  /** Aborted at the first stop request; its reason is the signal's name or the request's. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  request(reason: string): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Run `callback` (synchronously) just before a forced exit; returns its remover. */
  onForce(callback: (why: string) => void): () => void {
    this.#onForce.add(callback);
    return () => this.#onForce.delete(callback);
  }

  /** From the first stop on, exit with `code` if the command is still running after `budgetMs`. */
  armDeadline(budgetMs: number, code: number): void {
    const arm = () => {
      this.#guard ??= setTimeout(() => this.force('the stop overran its budget', code), budgetMs);
      this.#guard.unref();
    };
    if (this.signal.aborted) arm();
    else this.signal.addEventListener('abort', arm, { once: true });
  }

  force(why: string, code: number): never {
    for (const callback of this.#onForce) {
      try {
        callback(why);
      } catch {
        // Exiting anyway: one failing callback must not keep the others from running.
      }
    }
    process.exit(code);
  }

  dispose(): void {
    clearTimeout(this.#guard);
    this.#signals.dispose();
  }
}
