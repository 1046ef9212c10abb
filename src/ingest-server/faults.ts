/** Fault injection for the local ingest: what a flaky cloud does, on a schedule tests control. */

export { FaultSpecError, formatFaultRule, parseFaultSpec } from './fault-spec.js';

interface Delayed {
  /** Start applying this long after the rule was added (a schedule for the CLI). @default 0 */
  afterMs?: number;
}
/** A rule about requests may concern one camera only (`camera=<id>`): the others pass it by. */
interface PerCamera {
  /** Only this camera's ingest requests are faulted (and counted); the others' pass. @default all */
  camera?: string;
}
/** Answer `count` ingest requests with `status` (Infinity: from now on), reading their bodies. */
export interface StatusFault extends Delayed, PerCamera {
  kind: 'status';
  status: number;
  count: number;
  /** Sent as `Retry-After: <s>` (e.g. with 429 or 503). */
  retryAfterS?: number;
}
/** Answer every n-th ingest request this rule sees with `status`, until cleared. */
export interface EveryFault extends Delayed, PerCamera {
  kind: 'every';
  n: number;
  status: number;
  retryAfterS?: number;
}
/** Read the whole body and never answer; the socket stays open until the server closes. */
export interface HangFault extends Delayed, PerCamera {
  kind: 'hang';
  count: number;
}
/** Destroy the connection once some of the body has arrived. */
export interface ResetFault extends Delayed, PerCamera {
  kind: 'reset';
  count: number;
}
/** Stop listening (connections refused) for `forMs`, or until `up()`; same port afterwards. */
export interface DownFault extends Delayed {
  kind: 'down';
  forMs?: number;
}
export type FaultRule = StatusFault | EveryFault | HangFault | ResetFault | DownFault;

/** What to do with one ingest request. */
export type FaultAction =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; retryAfterS?: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

/** How the injector takes the server's listener down and up (the server serializes the two). */
export interface ListenerControl {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A timer-driven down or up failed (say, the port was taken meanwhile): nobody awaits it. */
  onError(error: unknown): void;
}

type RequestFault = Exclude<FaultRule, DownFault>;
interface ActiveRule {
  rule: RequestFault;
  activeFrom: number;
  /** Requests this rule has decided (status/hang/reset) or seen (every). */
  used: number;
}
interface ScheduledDown {
  rule: DownFault;
  at: number;
  timer: NodeJS.Timeout;
}

/**
 * Decides, request by request, whether and how the ingest misbehaves. Rules apply in the order
 * they were added: the first active, unexhausted rule decides, and a counted rule is dropped
 * once its count is used. An `every` rule passes the requests it does not fault on to the
 * rules after it. `down` rules act on the listener, not on requests.
 */
export class FaultInjector {
  readonly #control: ListenerControl;
  #rules: ActiveRule[] = [];
  readonly #scheduled = new Set<ScheduledDown>();
  #upTimer: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(control: ListenerControl) {
    this.#control = control;
  }

  /** Add a rule behind the others; throws a TypeError naming the bad field. */
  add(rule: FaultRule): void {
    validateFaultRule(rule);
    const afterMs = rule.afterMs ?? 0;
    if (rule.kind === 'down') {
      if (afterMs === 0) {
        this.#background(this.down(rule.forMs));
        return;
      }
      const scheduled: ScheduledDown = {
        rule,
        at: Date.now() + afterMs,
        timer: setTimeout(() => {
          this.#scheduled.delete(scheduled);
          this.#background(this.down(rule.forMs));
        }, afterMs),
      };
      this.#scheduled.add(scheduled);
      return;
    }
    this.#rules.push({ rule, activeFrom: Date.now() + afterMs, used: 0 });
  }

  /**
   * Drop every request rule and every scheduled `down`. A `down` already in force keeps its
   * timer (clearing never strands the server down); `up()` ends it early.
   */
  clear(): void {
    this.#rules = [];
    for (const s of this.#scheduled) clearTimeout(s.timer);
    this.#scheduled.clear();
  }

  /** Rules still to come, with what is left of them (remaining count, remaining delay). */
  pending(): FaultRule[] {
    const now = Date.now();
    const rules: FaultRule[] = this.#rules.map(({ rule, activeFrom, used }) =>
      delayed(rule.kind === 'every' ? rule : { ...rule, count: rule.count - used }, activeFrom - now),
    );
    for (const { rule, at } of this.#scheduled) rules.push(delayed(rule, at - now));
    return rules;
  }

  /** Close the listener and every open connection: clients get ECONNREFUSED until `up()`. */
  async down(forMs?: number): Promise<void> {
    if (this.#disposed) return;
    clearTimeout(this.#upTimer);
    if (forMs !== undefined) this.#upTimer = setTimeout(() => this.#background(this.up()), forMs);
    await this.#control.stop();
  }

  /** Listen again, on the same port. */
  async up(): Promise<void> {
    clearTimeout(this.#upTimer);
    if (this.#disposed) return;
    await this.#control.start();
  }

  /** Decide the next ingest request of `camera` (called once per request, in arrival order). */
  next(camera?: string): FaultAction {
    const now = Date.now();
    for (const [index, active] of this.#rules.entries()) {
      if (now < active.activeFrom) continue;
      const { rule } = active;
      // Another camera's rule neither decides nor counts this request.
      if (rule.camera !== undefined && rule.camera !== camera) continue;
      active.used++;
      if (rule.kind === 'every') {
        if (active.used % rule.n === 0) return statusAction(rule);
        continue;
      }
      if (active.used >= rule.count) this.#rules.splice(index, 1);
      return rule.kind === 'status' ? statusAction(rule) : { kind: rule.kind };
    }
    return { kind: 'pass' };
  }

  /** A timer's down/up: nobody awaits it, so its failure goes to the server's log. */
  #background(step: Promise<void>): void {
    step.catch((error: unknown) => this.#control.onError(error));
  }

  /** Cancel every timer; later `down()`/`up()` calls do nothing (the server is closing). */
  dispose(): void {
    this.#disposed = true;
    this.clear();
    clearTimeout(this.#upTimer);
  }
}

/** A copy of `rule` whose `afterMs` is the delay still to run (absent once it has run). */
function delayed<T extends FaultRule>(rule: T, remainingMs: number): T {
  const { afterMs: _afterMs, ...rest } = rule;
  return (remainingMs > 0 ? { ...rest, afterMs: remainingMs } : rest) as T;
}

function statusAction(rule: StatusFault | EveryFault): FaultAction {
  return rule.retryAfterS === undefined
    ? { kind: 'status', status: rule.status }
    : { kind: 'status', status: rule.status, retryAfterS: rule.retryAfterS };
}

/** Rules come from tests and from parsed CLI specs: check them once, naming the field. */
export function validateFaultRule(rule: FaultRule): void {
  const check = (ok: boolean, field: string, value: unknown, expected: string) => {
    if (!ok) throw new TypeError(`fault rule ${rule.kind}: ${field} ${String(value)} is not ${expected}`);
  };
  const isCount = (n: number) => n === Number.POSITIVE_INFINITY || (Number.isSafeInteger(n) && n >= 1);
  const isMs = (n: number | undefined) => n === undefined || (Number.isFinite(n) && n >= 0);
  check(isMs(rule.afterMs), 'afterMs', rule.afterMs, 'a duration in ms (0 or more)');
  if ('camera' in rule && rule.camera !== undefined)
    check(typeof rule.camera === 'string' && rule.camera !== '', 'camera', rule.camera, 'a camera id');
  switch (rule.kind) {
    case 'status':
    case 'every':
      check(
        Number.isInteger(rule.status) && rule.status >= 400 && rule.status <= 599,
        'status',
        rule.status,
        '400–599',
      );
      check(isMs(rule.retryAfterS), 'retryAfterS', rule.retryAfterS, 'a number of seconds (0 or more)');
      if (rule.kind === 'status')
        check(isCount(rule.count), 'count', rule.count, 'a whole number ≥ 1 or Infinity');
      else check(Number.isSafeInteger(rule.n) && rule.n >= 1, 'n', rule.n, 'a whole number ≥ 1');
      return;
    case 'hang':
    case 'reset':
      check(isCount(rule.count), 'count', rule.count, 'a whole number ≥ 1 or Infinity');
      return;
    case 'down':
      check(isMs(rule.forMs), 'forMs', rule.forMs, 'a duration in ms (0 or more)');
      return;
    default:
      throw new TypeError(`unknown fault rule kind ${String((rule as { kind: unknown }).kind)}`);
  }
}
