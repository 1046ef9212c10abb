import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, killAllClis, runCli, startCli } from './cli.js';
import { freePort } from './ports.js';

afterAll(killAllClis);

/** A node one-liner through the runner's `command` option, so these tests need no built CLI. */
const node = (script: string, env?: Record<string, string | undefined>) =>
  startCli(['-e', script], { command: process.execPath, env, validateEvents: false });

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('freePort', () => {
  it('returns a loopback port that can be listened on', async () => {
    const port = await freePort();
    const server = createServer().listen(port, '127.0.0.1');
    await once(server, 'listening');
    server.close();
  });
});

describe('the CLI runner', () => {
  it('points at the shipped bin shim', () => {
    expect(existsSync(cliPath)).toBe(true);
    expect(cliPath).toMatch(/bin\/trio-relay\.js$/);
  });

  it('waits for output, parses NDJSON events from stderr and reports the exit', async () => {
    const cli = node(
      `console.error('starting');
       console.error(JSON.stringify({ type: 'state', state: 'running' }));
       console.error('{not json');
       setTimeout(() => { console.log('ready on port 42'); console.error(JSON.stringify({ type: 'segment', sequence: 0 })); }, 50);
       setTimeout(() => process.exit(3), 100);`,
    );
    const match = await cli.waitForOutput(/ready on port (\d+)/, 5000, 'stdout');
    expect(match[1]).toBe('42');
    expect(await cli.exited).toEqual({ code: 3, signal: null });
    expect(cli.events()).toEqual([
      { type: 'state', state: 'running' },
      { type: 'segment', sequence: 0 },
    ]);
    expect(cli.stderr()).toContain('starting');
  });

  it('rejects with the output so far when the process exits without a match', async () => {
    const cli = node(`console.log('something else'); process.exit(1);`);
    await expect(cli.waitForOutput(/never/, 5000)).rejects.toThrow(/exited \(code 1\)[\s\S]*something else/);
  });

  it('rejects on timeout and reports signals', async () => {
    const cli = node(`console.log('up'); setInterval(() => {}, 1000);`);
    await cli.waitForOutput(/up/, 5000);
    await expect(cli.waitForOutput(/never/, 100, 'stderr')).rejects.toThrow(/not within 100 ms/);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: null, signal: 'SIGTERM' });
    cli.kill('SIGTERM'); // a no-op once it exited
  });

  it('passes env changes, removing variables set to undefined', async () => {
    process.env.TRIO_HELPER_TEST_UNSET = 'inherited';
    const cli = node(
      `console.log(process.env.TRIO_HELPER_TEST_UNSET ?? 'unset', process.env.TRIO_HELPER_TEST_SET)`,
      {
        TRIO_HELPER_TEST_UNSET: undefined,
        TRIO_HELPER_TEST_SET: 'given',
      },
    );
    await cli.exited;
    delete process.env.TRIO_HELPER_TEST_UNSET;
    expect(cli.stdout().trim()).toBe('unset given');
  });

  it('runCli SIGKILLs after timeoutMs and says so', async () => {
    const result = await runCli(['-e', 'setInterval(() => {}, 1000)'], {
      command: process.execPath,
      timeoutMs: 300,
    });
    expect(result).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
  });

  it('killAllClis kills leftovers and their children', async () => {
    const cli = startCli(['-c', 'sleep 300 & echo child $!; wait'], { command: 'sh' });
    const [, child] = await cli.waitForOutput(/child (\d+)/, 5000, 'stdout');
    killAllClis();
    expect((await cli.exited).signal).toBe('SIGKILL');
    await expect.poll(() => alive(Number(child)), { timeout: 2000, interval: 20 }).toBe(false);
  });
});
