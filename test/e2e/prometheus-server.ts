import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Debian's `prometheus` package (npm test's pretest installs it). */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const RULES_DIR = fileURLToPath(new URL('../../docker/prometheus/', import.meta.url));
export const ALERTS_FILE = join(RULES_DIR, 'alerts.yml');

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run promtool to its end, `input` on its stdin. */
export async function promtool(args: string[], input = '', cwd = RULES_DIR): Promise<ToolRun> {
  const child = spawn(PROMTOOL, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string }> }>;
}

export function readRules(path = ALERTS_FILE): RuleFile {
  return parse(readFileSync(path, 'utf8')) as RuleFile;
}

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `2m` → `4s` with factor 30; Prometheus durations in whole seconds at least. */
function scaleDuration(text: string, factor: number): string {
  const m = /^(\d+)([smh])$/.exec(text);
  if (!m) throw new Error(`unexpected duration ${text} in the shipped rules`);
  return `${Math.max(1, Math.round((Number(m[1]) * UNIT_S[m[2]!]!) / factor))}s`;
}

/**
 * The shipped rules with time running `factor` times faster, so an e2e test sees in seconds
 * what production sees in minutes: every `for:`, every range window and every threshold
 * (all in seconds) divided by `factor`. Nothing else of an expression changes.
 */
export function compressTime(rules: RuleFile, factor: number): RuleFile {
  return {
    groups: rules.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => ({
        ...rule,
        ...(rule.for === undefined ? {} : { for: scaleDuration(rule.for, factor) }),
        expr: rule.expr
          .replace(/\[(\d+[smh])\]/g, (_, d: string) => `[${scaleDuration(d, factor)}]`)
          .replace(/> (\d+)$/, (_, n: string) => `> ${Number(n) / factor}`),
      })),
    })),
  };
}

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  readonly url: string;
  /** An instant query through /api/v1/query; throws with Prometheus' error when it fails. */
  query(promql: string): Promise<Sample[]>;
  /** Values of a label among the series `match` selects (/api/v1/label/…/values). */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Active (pending or firing) alerts, /api/v1/alerts. */
  alerts(): Promise<Alert[]>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

/** Poll `read` (bounded, 250 ms apart) until `done` holds; the last value in the error. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (error) {
      lastError = error; // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)} ${String(lastError ?? '')}`);
}

/**
 * Debian's Prometheus on a free loopback port, its own config and TSDB in a temp dir, scraping
 * `target` (host:port) every second as job `trio-relay` and evaluating `rules` every second.
 */
export async function startPrometheus(target: string, rules: RuleFile): Promise<Prometheus> {
  const dir = tempDir('e2e-prometheus-');
  const config = join(dir, 'prometheus.yml');
  writeFileSync(join(dir, 'alerts.yml'), stringify(rules));
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ['alerts.yml'],
      scrape_configs: [{ job_name: 'trio-relay', static_configs: [{ targets: [target] }] }],
    }),
  );
  const checked = await promtool(['check', 'config', config], '', dir);
  if (checked.code !== 0) throw new Error(`promtool check config: ${checked.stdout}${checked.stderr}`);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-8000);
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${log}`);
        return (await fetch(`${url}/-/ready`)).status;
      },
      (status) => status === 200,
      `prometheus ready on ${url}`,
      30_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n--- prometheus log ---\n${log}`);
  }
  const q = (path: string, params: Record<string, string>) =>
    `${url}${path}?${new URLSearchParams(params).toString()}`;
  return {
    url,
    query: async (promql) => (await api<{ result: Sample[] }>(q('/api/v1/query', { query: promql }))).result,
    labelValues: (label, match) =>
      api<string[]>(q(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match })),
    alerts: async () => (await api<{ alerts: Alert[] }>(`${url}/api/v1/alerts`)).alerts,
    stop,
  };
}
