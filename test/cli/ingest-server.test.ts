import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

afterAll(() => killAllClis());

/** One MPEG-TS packet (sync byte, then padding): the smallest body the content check accepts. */
const TS_PACKET = new Uint8Array(188).fill(0xff).fill(0x47, 0, 1);

describe('trio-relay ingest-server', () => {
  it('serves the contract, applies repeated --fault flags in order and prints a line per segment', async () => {
    const port = await freePort();
    const out = mkdtempSync(join(tmpdir(), 'cli-ingest-'));
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
});
