import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, killAllClis, runCli, startCli } from '../helpers/cli.js';

afterAll(() => killAllClis());

const TRACE = fileURLToPath(new URL('../helpers/trace-loads.mjs', import.meta.url));

/** The relay's heavy parts: what a command that does not relay must never load. */
const RELAY_ONLY = [/\/dist\/lifecycle\//, /\/node_modules\/undici\//, /\/node_modules\/execa\//];

/** Every module URL the traced process loaded, from its stderr. */
function loaded(stderr: string): string[] {
  return [...stderr.matchAll(/^loaded (\S+)$/gm)].map((m) => m[1]!);
}

const traced = (args: string[]) => [...['--import', TRACE, cliPath], ...args];

describe('each command loads only what it needs', () => {
  it('--help parses the relay options without loading the fleet, undici or execa', async () => {
    const result = await runCli(traced(['--help']), { command: process.execPath, timeoutMs: 20_000 });
    expect(result.code).toBe(0);
    const modules = loaded(result.stderr);
    // The trace works: the CLI's own modules are listed.
    expect(modules.some((url) => url.endsWith('/dist/cli/commands.js'))).toBe(true);
    for (const heavy of RELAY_ONLY) expect(modules.filter((url) => heavy.test(url))).toEqual([]);
  });

  it('ingest-server loads no fleet, undici or execa', async () => {
    const server = startCli(traced(['ingest-server', '--port', '0', '--token', 'lazy-token']), {
      command: process.execPath,
    });
    await server.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, 15_000, 'stdout');
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const modules = loaded(server.stderr());
    expect(modules.some((url) => url.endsWith('/dist/ingest-server/server.js'))).toBe(true);
    for (const heavy of RELAY_ONLY) expect(modules.filter((url) => heavy.test(url))).toEqual([]);
  });

  it('discover loads no fleet and no execa', async () => {
    // A unicast probe to a loopback port nobody answers on: no devices, exit 0.
    const result = await runCli(
      traced(['discover', '--timeout', '200ms', '--discover-address', '127.0.0.1:9', '--json']),
      { command: process.execPath, timeoutMs: 20_000 },
    );
    expect(result.code).toBe(0);
    const modules = loaded(result.stderr);
    expect(modules.some((url) => url.endsWith('/dist/cli/discover.js'))).toBe(true);
    for (const heavy of [RELAY_ONLY[0]!, RELAY_ONLY[2]!])
      expect(modules.filter((url) => heavy.test(url))).toEqual([]);
  });
});
