import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaViolation } from './ndjson-schema.js';

/** The built CLI, as an operator runs it (`npm run build` first). */
export const cliPath = fileURLToPath(new URL('../../bin/trio-relay.js', import.meta.url));

/** After the process exited, how long to wait for its pipes to close (a grandchild may hold them). */
const CLOSE_GRACE_MS = 2000;

export interface CliOptions {
  /** Added to this process's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run this program instead of node (e.g. `unshare`); `args` are then its whole argv. */
  command?: string;
  /** Hold NDJSON lines to the relay's event schema (see events()). @default true */
  validateEvents?: boolean;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /**
   * NDJSON objects from stderr (with --json); other lines are ignored. Throws when one of them
   * breaks the published event schema, so every test that reads events checks it.
   */
  events(): Array<Record<string, unknown>>;
  /**
   * Resolves with the match once `re` matches the output so far (re-checked on every chunk);
   * rejects with the output so far on timeout or when the process exits without a match.
   */
  waitForOutput(
    re: RegExp,
    timeoutMs: number,
    stream?: 'stdout' | 'stderr' | 'both',
  ): Promise<RegExpMatchArray>;
  /** Resolves when `predicate` holds; re-checked on every chunk of output, rejects like waitForOutput. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Send a signal to the process (by PID); a no-op once it exited. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the process exited and its output was read to the end. */
  readonly exited: Promise<CliExit>;
}

export interface CliResult extends CliExit {
  stdout: string;
  stderr: string;
  /** The process outlived `timeoutMs` and was SIGKILLed. */
  timedOut: boolean;
}

/** `#!/usr/bin/env -S node --flag …` → ['--flag', …] */
export const SHEBANG_NODE_FLAGS: readonly string[] = (
  /^#!\/usr\/bin\/env -S node ?(.*)$/m.exec(readFileSync(cliPath, 'utf8').split('\n')[0]!)?.[1] ?? ''
)
  .split(' ')
  .filter(Boolean);

const started = new Set<ChildProcess>();

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  // This node (a test may empty PATH), with the node flags of the shim's shebang, as `trio-relay` runs.
  const [file, argv] = options.command
    ? [options.command, args]
    : [process.execPath, [...SHEBANG_NODE_FLAGS, cliPath, ...args]];
  const child = spawn(file, argv, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  let out = '';
  let err = '';
  const parsed: Array<Record<string, unknown>> = [];
  const violations: string[] = [];
  let parsedUpTo = 0;
  const changes = new EventEmitter();
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    changes.emit('change');
  });
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
    changes.emit('change');
  });

  let exit: CliExit | undefined;
  const exited = new Promise<CliExit>((resolve) => {
    const finish = (result: CliExit) => {
      if (exit) return;
      exit = result;
      started.delete(child);
      changes.emit('change');
      resolve(result);
    };
    // 'close' comes after the output was read to the end, unless a grandchild keeps a pipe open.
    child.once('close', (code, signal) => finish({ code, signal }));
    child.once('exit', (code, signal) => {
      setTimeout(() => finish({ code, signal }), CLOSE_GRACE_MS).unref();
    });
    child.once('error', (error) => {
      err += `\n${error.message}\n`;
      if (child.pid === undefined) finish({ code: null, signal: null });
    });
  });

  const events = () => {
    const end = err.lastIndexOf('\n') + 1;
    if (end > parsedUpTo) {
      for (const line of err.slice(parsedUpTo, end).split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const value: unknown = JSON.parse(line);
          if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
            parsed.push(value as Record<string, unknown>);
            // Every event any test sees is held to the published schema.
            const violation = options.validateEvents === false ? undefined : schemaViolation(value);
            if (violation) violations.push(violation);
          }
        } catch {
          // a log line that happens to start with '{'
        }
      }
      parsedUpTo = end;
    }
    if (violations.length > 0) throw new Error(`NDJSON events break the schema:\n${violations.join('\n')}`);
    return parsed;
  };

  const waitFor = (predicate: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const onChange = () => {
        let held: boolean;
        try {
          held = predicate();
        } catch (error) {
          // A broken event (see events()) ends the wait, not the test runner.
          return fail(String(error));
        }
        if (held) {
          done();
          resolve();
        } else if (exit) {
          fail(`process exited (${exit.signal ?? `code ${exit.code}`})`);
        }
      };
      const fail = (why: string) => {
        done();
        reject(
          new Error(
            `${what}: ${why}\n--- stdout ---\n${out.slice(-3000)}\n--- stderr ---\n${err.slice(-6000)}`,
          ),
        );
      };
      const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        changes.off('change', onChange);
      };
      changes.on('change', onChange);
      onChange();
    });

  return {
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    events,
    waitFor,
    async waitForOutput(re, timeoutMs, stream = 'both') {
      const text = () => (stream === 'stdout' ? out : stream === 'stderr' ? err : `${out}\n${err}`);
      let match: RegExpMatchArray | null = null;
      await waitFor(
        () => {
          match = text().match(re);
          return match !== null;
        },
        timeoutMs,
        `waiting for ${re} on ${stream}`,
      );
      return match!;
    },
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** Run to completion (SIGKILL after `timeoutMs`) and return the exit and all output. */
export async function runCli(
  args: string[],
  options: CliOptions & { timeoutMs: number },
): Promise<CliResult> {
  const cli = startCli(args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    cli.kill('SIGKILL');
  }, options.timeoutMs);
  const { code, signal } = await cli.exited;
  clearTimeout(timer);
  return { code, signal, stdout: cli.stdout(), stderr: cli.stderr(), timedOut };
}

/** For afterAll: SIGKILL every CLI this file started that is still running, with its descendants (ffmpeg). */
export function killAllClis(): void {
  for (const child of started) {
    if (child.pid === undefined) continue;
    for (const pid of [child.pid, ...descendants(child.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  started.clear();
}

/** Linux /proc walk, done before the kill re-parents them. */
function descendants(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
      children.push(...list.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // gone, or not Linux
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

// If the worker exits without afterAll (a crash, a bail), do not leave relays behind.
process.once('exit', killAllClis);
