/** Fault injection for the local ingest: what a flaky cloud does, on a schedule tests control. */

export type FaultRule =
  /** Answer `count` requests with `status` (e.g. 5×503, 2×429 with Retry-After, 401 from now on). */
  | { kind: 'status'; status: number; count: number; retryAfterS?: number; afterMs?: number }
  /** Answer every n-th request with `status`, until cleared. */
  | { kind: 'every'; n: number; status: number; afterMs?: number }
  /** Read the body, never answer. */
  | { kind: 'hang'; count: number; afterMs?: number }
  /** Destroy the connection in the middle of the body. */
  | { kind: 'reset'; count: number; afterMs?: number }
  /** Stop listening (connections refused) for `forMs`, or until `up()`. */
  | { kind: 'down'; forMs?: number; afterMs?: number };

export type FaultAction =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; retryAfterS?: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

export class FaultSpecError extends Error {
  readonly code = 'ERR_BAD_FAULT_SPEC';
}

interface ActiveRule {
  rule: FaultRule;
  activeFrom: number;
  used: number;
}

/** Decides, request by request, whether and how to misbehave. `down` is delegated to the server. */
export class FaultInjector {
  #rules: ActiveRule[] = [];
  readonly #setDown: (down: boolean) => Promise<void>;
  #upTimer: NodeJS.Timeout | undefined;

  constructor(setDown: (down: boolean) => Promise<void>) {
    this.#setDown = setDown;
  }

  add(rule: FaultRule): void {
    const activeFrom = Date.now() + (rule.afterMs ?? 0);
    if (rule.kind === 'down') {
      const start = () => {
        void this.down();
        if (rule.forMs !== undefined) this.#upTimer = setTimeout(() => void this.up(), rule.forMs);
      };
      if (rule.afterMs) setTimeout(start, rule.afterMs).unref();
      else start();
      return;
    }
    this.#rules.push({ rule, activeFrom, used: 0 });
  }

  /** Drop every request rule (a `down` in force stays until `up()`). */
  clear(): void {
    this.#rules = [];
  }

  pending(): readonly FaultRule[] {
    return this.#rules.map((r) => r.rule);
  }

  /** Close the listener and every connection: clients get ECONNREFUSED. */
  down(): Promise<void> {
    return this.#setDown(true);
  }

  /** Listen again on the same port. */
  up(): Promise<void> {
    clearTimeout(this.#upTimer);
    return this.#setDown(false);
  }

  /** The action for the next ingest request. */
  next(): FaultAction {
    const now = Date.now();
    for (const active of this.#rules) {
      const { rule } = active;
      if (now < active.activeFrom || rule.kind === 'down') continue;
      if (rule.kind === 'every') {
        active.used++;
        if (active.used % rule.n === 0) return { kind: 'status', status: rule.status };
        continue;
      }
      if (active.used >= rule.count) continue;
      active.used++;
      if (rule.kind === 'status') {
        return rule.retryAfterS === undefined
          ? { kind: 'status', status: rule.status }
          : { kind: 'status', status: rule.status, retryAfterS: rule.retryAfterS };
      }
      return { kind: rule.kind };
    }
    return { kind: 'pass' };
  }

  dispose(): void {
    clearTimeout(this.#upTimer);
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

function durationMs(text: string, spec: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new FaultSpecError(`bad duration "${text}" in fault spec "${spec}"`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'] ?? 1000);
}

/**
 * Parse a `--fault` spec:
 * - `503x5` — the next 5 requests get 503; `429x3:retry-after=2` — with Retry-After: 2
 * - `401` — 401 from now on (any status without `x` lasts forever)
 * - `every3:500` — every 3rd request gets 500
 * - `hangx2` — 2 requests read but never answered; `resetx2` — 2 connections reset mid-body
 * - `down:60s` — refuse connections for 60 s
 * Any rule may end with `:after=30s` to start later.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const [head = '', ...options] = spec.trim().split(':');
  const opts = new Map<string, string>();
  let downFor: number | undefined;
  let everyStatus: number | undefined;
  for (const o of options) {
    const [k, v] = o.split('=');
    if (v !== undefined && k) opts.set(k, v);
    else if (head === 'down' && k) downFor = durationMs(k, spec);
    else if (/^every\d+$/.test(head) && /^\d{3}$/.test(k ?? '')) everyStatus = Number(k);
    else throw new FaultSpecError(`unknown option "${o}" in fault spec "${spec}"`);
  }
  for (const k of opts.keys()) {
    if (k !== 'after' && k !== 'retry-after')
      throw new FaultSpecError(`unknown option "${k}" in fault spec "${spec}"`);
  }
  const after = opts.has('after') ? { afterMs: durationMs(opts.get('after')!, spec) } : {};
  if (head === 'down')
    return { kind: 'down', ...(downFor === undefined ? {} : { forMs: downFor }), ...after };
  const every = /^every(\d+)$/.exec(head);
  if (every && everyStatus !== undefined && Number(every[1]) > 0) {
    return { kind: 'every', n: Number(every[1]), status: everyStatus, ...after };
  }
  const counted = /^(hang|reset)x(\d+)$/.exec(head);
  if (counted) return { kind: counted[1] as 'hang' | 'reset', count: Number(counted[2]), ...after };
  const status = /^([1-5]\d\d)(?:x(\d+))?$/.exec(head);
  if (status) {
    const retryAfter = opts.get('retry-after');
    if (retryAfter !== undefined && !/^\d+$/.test(retryAfter)) {
      throw new FaultSpecError(`retry-after must be whole seconds in fault spec "${spec}"`);
    }
    return {
      kind: 'status',
      status: Number(status[1]),
      count: status[2] === undefined ? Number.POSITIVE_INFINITY : Number(status[2]),
      ...(retryAfter === undefined ? {} : { retryAfterS: Number(retryAfter) }),
      ...after,
    };
  }
  throw new FaultSpecError(
    `unknown fault "${spec}" (expected e.g. 503x5, 429x3:retry-after=2, 401, every3:500, hangx2, resetx2, down:60s)`,
  );
}
