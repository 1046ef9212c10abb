/** Which bytes go first when the cap is reached: a camera's live segment before backlog. */
export type RatePriority = 'live' | 'backlog';

interface Waiter {
  readonly bytes: number;
  readonly priority: RatePriority;
  readonly resolve: () => void;
}

export interface RateLimiterOptions {
  /** The cap, bytes per second. */
  readonly bytesPerSecond: number;
  /** How much may go at once after a quiet spell: a quarter second's worth by default. */
  readonly burstBytes?: number;
  readonly now?: () => number;
}

/**
 * A token bucket shared by every upload of the process (--max-upload-rate). Uploads ask for
 * each chunk they are about to send; when the bucket is empty they wait, live segments before
 * backlog, first come first served within each. So backfill after an outage cannot saturate a
 * shared uplink, and the cameras' live video keeps flowing while it drains.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;
  readonly #waiting: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RateLimiterOptions) {
    this.#rate = options.bytesPerSecond;
    this.#burst = Math.max(1, options.burstBytes ?? Math.round(options.bytesPerSecond / 4));
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Someone is waiting: the cap is being reached right now. */
  get saturated(): boolean {
    return this.#waiting.length > 0;
  }

  /** Resolves once `bytes` may be sent; early (without throwing) when `signal` aborts. */
  take(bytes: number, priority: RatePriority, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    this.#refill();
    if (this.#waiting.length === 0 && this.#tokens >= Math.min(bytes, this.#burst)) {
      this.#tokens -= bytes;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        bytes,
        priority,
        resolve: () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        },
      };
      const leave = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve();
      };
      signal?.addEventListener('abort', leave, { once: true });
      // Live waiters go ahead of every backlog waiter, behind earlier live ones.
      const at =
        priority === 'live' ? this.#waiting.findIndex((w) => w.priority === 'backlog') : this.#waiting.length;
      this.#waiting.splice(at < 0 ? this.#waiting.length : at, 0, waiter);
      this.#schedule();
    });
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
  }

  #schedule(): void {
    if (this.#timer) return;
    const head = this.#waiting[0];
    if (!head) return;
    // A chunk bigger than the burst goes once the bucket is full, and leaves it in debt.
    const need = Math.min(head.bytes, this.#burst) - this.#tokens;
    const delayMs = Math.max(1, Math.ceil((need / this.#rate) * 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#release();
    }, delayMs);
    this.#timer.unref();
  }

  #release(): void {
    this.#refill();
    for (let head = this.#waiting[0]; head; head = this.#waiting[0]) {
      if (this.#tokens < Math.min(head.bytes, this.#burst)) break;
      this.#tokens -= head.bytes;
      this.#waiting.shift();
      head.resolve();
    }
    this.#schedule();
  }
}
