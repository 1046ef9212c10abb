import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

/** One MPEG-TS packet (sync byte, then padding): the smallest body the content check accepts. */
const TS_PACKET = new Uint8Array(188).fill(0xff).fill(0x47, 0, 1);

describe('trio-relay ingest-server', () => {
  it('serves the contract, applies repeated --fault flags in order and prints a line per segment', async () => {
    const port = await freePort();
    const out = tempDir('cli-ingest-');
    const server = startCli([
      ...['ingest-server', '--port', String(port), '--out', out, '--token', 'cli-token'],
      ...['--fault', '503x1', '--fault', '429x1:retry-after=4'],
    ]);
    await server.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, 15_000, 'stdout');
    const post = (key: string) =>
      fetch(`http://127.0.0.1:${port}/api/stream/ingest/cam9`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'video/mp2t', 'x-segment-sequence': '4' },
        body: TS_PACKET,
      });
    expect((await post('wrong')).status).toBe(401);
    expect((await post('cli-token')).status).toBe(503);
    const limited = await post('cli-token');
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '4']);
    expect((await post('cli-token')).status).toBe(204);
    await server.waitForOutput(/cam cam9 seq 4 .* accepted/, 5000, 'stdout');
    expect(server.stdout()).toMatch(/fault 503[\s\S]*fault 429/);
    expect(server.stdout()).not.toContain('cli-token');
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('refuses --host 0.0.0.0 without a token: exit 2, one line, before listening', async () => {
    const out = tempDir('cli-ingest-');
    const result = await runCli(['ingest-server', '--host', '0.0.0.0', '--port', '0', '--out', out], {
      timeoutMs: 15_000,
      env: { TRIO_TOKEN: undefined },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'trio-relay: ingest-server: --host 0.0.0.0 is reachable from other machines and no --token is set, so anyone could upload: pass --token or --token-file (or --insecure to accept that)',
    ]);
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('reads the key from --token-file, prints the viewer address without it, and takes --max-store-mb', async () => {
    const port = await freePort();
    const out = tempDir('cli-ingest-');
    const tokenFile = join(out, '..', `token-${port}`);
    writeFileSync(tokenFile, 'file-token\n');
    const server = startCli([
      ...['ingest-server', '--port', String(port), '--out', out, '--token-file', tokenFile],
      ...['--max-store-mb', '1', '--headers-timeout', '2s', '--body-timeout', '5s'],
    ]);
    await server.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, 15_000, 'stdout');
    expect(server.stdout().split('\n')[0]).toBe(
      `viewer: http://127.0.0.1:${port}/ (append #key=<your token> to the address)`,
    );
    expect(server.stdout()).toMatch(/\(at most 1 MB\)/);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const api = (key?: string) =>
      fetch(`http://127.0.0.1:${port}/viewer/api/cameras`, { headers: key ? { 'x-api-key': key } : {} });
    expect((await api()).status).toBe(401);
    expect((await api('file-token')).status).toBe(200);
    expect(server.stdout()).not.toContain('file-token');
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
