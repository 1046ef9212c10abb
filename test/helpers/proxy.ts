import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { tempDir } from './temp-dir.js';

/** Debian's tinyproxy: a real forward proxy (CONNECT, Basic auth). */
const TINYPROXY = '/usr/bin/tinyproxy';
const READY_TIMEOUT_MS = 10_000;

export interface ProxyOptions {
  /** Ports it may CONNECT to (the ingest's): tinyproxy refuses the others with 403. */
  connectPorts: number[];
  /** Require this account (Proxy-Authorization: Basic). */
  user?: string;
  password?: string;
}

/** tinyproxy on a loopback port, started and stopped by PID; restart() comes back on the same port. */
export interface TestProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, with `user:password@` when the proxy requires them. */
  readonly url: string;
  /** The same proxy with other credentials (a wrong password). */
  urlWith(user: string, password: string): string;
  /** What tinyproxy logged (every CONNECT it served), across restarts. */
  log(): string;
  /** SIGTERM, then wait for the exit: the port refuses connections. */
  stop(): Promise<void>;
  /** Start again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
}

export async function startProxy(options: ProxyOptions): Promise<TestProxy> {
  const dir = tempDir('e2e-proxy-');
  const port = await freePort();
  const conf = join(dir, 'tinyproxy.conf');
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Allow 127.0.0.1',
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      // No LogFile: with -d tinyproxy logs to stdout, which the helper reads to know it is ready.
      'LogLevel Info',
      'MaxClients 50',
      'Timeout 30',
      ...options.connectPorts.map((p) => `ConnectPort ${p}`),
      ...(options.user ? [`BasicAuth ${options.user} ${options.password ?? ''}`] : []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    const proc = spawn(TINYPROXY, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let mine = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tinyproxy not ready:\n${mine}`)), READY_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        mine += chunk.toString();
        output += chunk.toString();
        if (mine.includes('Accepting connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tinyproxy exited (${code}) before it was ready:\n${mine}`));
      });
    });
    await ready;
  };
  await start();
  const withCredentials = (user: string, password: string) =>
    `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const proxy: TestProxy = {
    port,
    url: options.user ? withCredentials(options.user, options.password ?? '') : `http://127.0.0.1:${port}`,
    urlWith: withCredentials,
    log: () => output,
    stop: async () => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
    start,
  };
  proxies.add(proxy);
  return proxy;
}

const proxies = new Set<TestProxy>();

/** For afterAll: stop every proxy this file started. */
export async function stopAllProxies(): Promise<void> {
  await Promise.all([...proxies].map((p) => p.stop()));
  proxies.clear();
}
