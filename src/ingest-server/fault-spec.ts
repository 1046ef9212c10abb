import { readDurationMs } from '../config/parse.js';
import { ExitCode, RelayError } from '../errors.js';
import type { FaultRule } from './faults.js';

const EXAMPLES =
  'e.g. 503x5, 429x3:retry-after=2, every3:500, hangx2, resetx2, down:60s, 401:after=30s, 503:camera=cam-2';

/** A `--fault` spec that does not parse; the message names the spec and what was expected. */
export class FaultSpecError extends RelayError {
  readonly spec: string;
  constructor(spec: string, problem: string) {
    super('ERR_BAD_FAULT_SPEC', `bad fault spec "${spec}": ${problem} (${EXAMPLES})`, {
      exitCode: ExitCode.badInput,
    });
    this.spec = spec;
  }
}

/**
 * Parse one `trio-relay ingest-server --fault <spec>` (repeatable; rules apply in order).
 *
 * ```text
 * spec     = rule *( ":" option )
 * rule     = STATUS [ "x" COUNT ]        503x5 (next 5 ingest requests get 503); 401 (from now on)
 *          | "every" N ":" STATUS        every3:500 (every 3rd request, until cleared)
 *          | "hang" [ "x" COUNT ]        hangx2 (read the body, never answer); hang (all of them)
 *          | "reset" [ "x" COUNT ]       resetx2 (drop the connection mid-body)
 *          | "down" [ ":" DURATION ]     down:60s (refuse connections; "down" alone: until up())
 * option   = "after=" DURATION           start that long after the server starts (any rule)
 *          | "retry-after=" SECONDS      send Retry-After (STATUS and every rules only)
 *          | "camera=" ID                only that camera's segments (not down: it is the listener)
 * STATUS   = 400..599;  COUNT, N = whole number >= 1
 * DURATION = number [ "ms" | "s" | "m" | "h" | "d" ]   (a bare number is seconds)
 * ```
 * Examples: `503x5`, `429x3:retry-after=2`, `every3:500`, `hangx2`, `resetx2`, `down:60s`,
 * `401:after=30s`, `503:camera=cam-2`. Throws {@link FaultSpecError} (`code: 'ERR_BAD_FAULT_SPEC'`) on anything else.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const fail = (problem: string): never => {
    throw new FaultSpecError(spec, problem);
  };
  const [rawHead = '', ...parts] = spec.trim().split(':');
  const head = rawHead.toLowerCase();
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      positional.push(part.toLowerCase());
      continue;
    }
    const key = part.slice(0, eq).toLowerCase();
    if (key !== 'after' && key !== 'retry-after' && key !== 'camera')
      fail(`unknown option "${key}" (expected after=, retry-after= or camera=)`);
    if (options.has(key)) fail(`option "${key}" given twice`);
    // A camera id keeps its case (ids are case-sensitive folder names); the rest does not matter.
    const value = part.slice(eq + 1);
    options.set(key, key === 'camera' ? value : value.toLowerCase());
  }
  const after = options.get('after');
  const delay = after === undefined ? {} : { afterMs: durationMs(after, 'after', fail) };
  const camera = options.get('camera');
  if (camera === '') fail('camera= needs a camera id');
  const only = camera === undefined ? {} : { camera };
  const retryAfter = options.get('retry-after');
  const retry = retryAfter === undefined ? {} : { retryAfterS: seconds(retryAfter, fail) };
  const allow = (count: number, what: string) => {
    if (positional.length > count) fail(`unexpected "${positional[count]}" after ${what}`);
  };
  const noRetry = () => {
    if (retryAfter !== undefined) fail('retry-after= applies only to status and every rules');
  };

  if (head === 'down') {
    allow(1, 'down');
    noRetry();
    if (camera !== undefined) fail('camera= does not apply to down (it takes the whole listener down)');
    const forMs = positional[0] === undefined ? {} : { forMs: durationMs(positional[0], 'down', fail) };
    return { kind: 'down', ...forMs, ...delay };
  }
  const every = /^every(.*)$/.exec(head);
  if (every) {
    const n = count(every[1]!, fail);
    if (positional[0] === undefined) fail(`every${n} needs a status, e.g. every${n}:500`);
    allow(1, 'the status');
    return { kind: 'every', n, status: statusCode(positional[0]!, fail), ...retry, ...delay, ...only };
  }
  const counted = /^(hang|reset)(?:x(.*))?$/.exec(head);
  if (counted) {
    const kind = counted[1] as 'hang' | 'reset';
    allow(0, kind);
    noRetry();
    return { kind, count: times(counted[2], fail), ...delay, ...only };
  }
  const status = /^(\d+)(?:x(.*))?$/.exec(head);
  if (status) {
    allow(0, 'the status');
    return {
      kind: 'status',
      status: statusCode(status[1]!, fail),
      count: times(status[2], fail),
      ...retry,
      ...delay,
      ...only,
    };
  }
  return fail(head === '' ? 'empty' : `unknown fault "${head}"`);
}

/** The spec `parseFaultSpec` reads back as `rule` (for logs and `pending()` listings). */
export function formatFaultRule(rule: FaultRule): string {
  const times = (n: number) => (n === Number.POSITIVE_INFINITY ? '' : `x${n}`);
  const retry =
    'retryAfterS' in rule && rule.retryAfterS !== undefined ? `:retry-after=${rule.retryAfterS}` : '';
  const after = rule.afterMs ? `:after=${rule.afterMs}ms` : '';
  const only = 'camera' in rule && rule.camera !== undefined ? `:camera=${rule.camera}` : '';
  switch (rule.kind) {
    case 'status':
      return `${rule.status}${times(rule.count)}${retry}${after}${only}`;
    case 'every':
      return `every${rule.n}:${rule.status}${retry}${after}${only}`;
    case 'hang':
    case 'reset':
      return `${rule.kind}${times(rule.count)}${after}${only}`;
    case 'down':
      return `down${rule.forMs === undefined ? '' : `:${rule.forMs}ms`}${after}`;
  }
}

type Fail = (problem: string) => never;

function count(text: string, fail: Fail): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    fail(`count "${text}" is not a whole number ≥ 1`);
  return n;
}

/** `x<count>` → count; no `x` at all → Infinity ("from now on"). */
function times(text: string | undefined, fail: Fail): number {
  return text === undefined ? Number.POSITIVE_INFINITY : count(text, fail);
}

function statusCode(text: string, fail: Fail): number {
  const n = Number(text);
  if (!/^\d{3}$/.test(text) || n < 400 || n > 599)
    fail(`status "${text}" is not an HTTP error status (400–599)`);
  return n;
}

function seconds(text: string, fail: Fail): number {
  if (!/^\d+$/.test(text)) fail(`retry-after "${text}" is not a whole number of seconds`);
  return Number(text);
}

/** The flags' duration grammar (src/config/parse.ts). */
function durationMs(text: string, what: string, fail: Fail): number {
  return readDurationMs(text) ?? fail(`${what} "${text}" is not a duration (e.g. 500ms, 30s, 2m)`);
}
