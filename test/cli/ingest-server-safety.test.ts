import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/uploader/classify.js';
import { killAllClis, runCli, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

afterAll(() => killAllClis());

const NOBODY = 65_534;
const TOKEN = 'store-token';
/** `n` MPEG-TS packets (sync byte, then padding): what the content check accepts. */
const ts = (packets: number) => {
  const body = Buffer.alloc(188 * packets, 0xff);
  for (let i = 0; i < packets; i++) body[i * 188] = 0x47;
  return body;
};

async function refusedOut(out: string): Promise<string> {
  const result = await runCli(['ingest-server', '--port', '0', '--out', out], { timeoutMs: 15_000 });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).not.toMatch(/listening/);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('ingest-server --out another user could control', () => {
  it('is refused when it is theirs, open to others, or below a dir they can swap', async () => {
    const base = tempDir('out-');
    const theirs = join(base, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, NOBODY, NOBODY);
    expect(await refusedOut(theirs)).toBe(
      `trio-relay: ingest-server: --out ${theirs} is owned by uid ${NOBODY} (root uses only a directory owned by root): give the ingest a directory of its own, e.g. /var/lib/trio-ingest`,
    );
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(await refusedOut(join(open, 'store'))).toBe(
      `trio-relay: ingest-server: --out ${join(open, 'store')}: its ancestor ${open} is writable by other users (mode 0777, owner uid 0) without the sticky bit, so they could swap what is under it: give the ingest a directory of its own, e.g. /var/lib/trio-ingest`,
    );
    expect(readdirSync(open)).toEqual([]);
    expect(await refusedOut(join(theirs, 'store'))).toMatch(
      new RegExp(`: its ancestor ${theirs} is owned by uid ${NOBODY}, who could swap what is under it: `),
    );
  });
});

describe('ingest-server --max-store-mb', () => {
  it('answers 413 to a segment larger than the whole store (a reject for the relay), and keeps the newest', async () => {
    const port = await freePort();
    const out = tempDir('out-');
    const server = startCli([
      'ingest-server',
      '--port',
      String(port),
      '--out',
      out,
      '--token',
      TOKEN,
      '--max-store-mb',
      '1',
    ]);
    await server.waitForOutput(/listening on/, 15_000, 'stdout');
    const post = (body: Buffer, sequence: number) =>
      fetch(`http://127.0.0.1:${port}/api/stream/ingest/cam-1`, {
        method: 'POST',
        headers: {
          'x-api-key': TOKEN,
          'content-type': 'video/mp2t',
          'x-segment-sequence': String(sequence),
          'idempotency-key': `k${sequence}`,
        },
        body,
      });
    const big = await post(ts(Math.ceil((1.6 * 1024 * 1024) / 188)), 0);
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      error: 'segment over the store limit of 1048576 bytes (--max-store-mb)',
    });
    expect(classify({ kind: 'response', status: big.status, body: '' })).toMatchObject({ class: 'reject' });
    const stored = () =>
      readdirSync(join(out, 'cam-1'))
        .filter((n) => n.endsWith('.ts'))
        .sort();
    expect(stored()).toEqual([]);
    const ledger = () =>
      readFileSync(join(out, 'cam-1', 'ledger.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { status: string; http_status: number; sequence: number });
    expect(ledger().map((r) => [r.status, r.http_status])).toEqual([['rejected', 413]]);

    // 0.4 MB each: the third fills the store past 1 MB, and the oldest goes, never the newest.
    const part = ts(Math.ceil((0.4 * 1024 * 1024) / 188));
    for (const sequence of [1, 2, 3]) {
      const res = await post(part, sequence);
      expect(res.status).toBe(204);
      const files = stored();
      expect(files.at(-1)).toMatch(new RegExp(`^00000000${sequence}-`));
      expect(files.reduce((sum, n) => sum + statSync(join(out, 'cam-1', n)).size, 0)).toBeLessThanOrEqual(
        1024 * 1024,
      );
    }
    expect(stored().map((n) => Number(n.slice(0, 9)))).toEqual([2, 3]);
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});

describe('ingest-server --max-cameras and --max-connections', () => {
  it('caps the cameras from the command line, and refuses a count below 1', async () => {
    const port = await freePort();
    const out = tempDir('out-');
    const server = startCli([
      ...['ingest-server', '--port', String(port), '--out', out, '--token', TOKEN],
      ...['--max-cameras', '1', '--max-connections', '8'],
    ]);
    await server.waitForOutput(/listening on/, 15_000, 'stdout');
    const register = (id: string) =>
      fetch(`http://127.0.0.1:${port}/api/cameras`, {
        method: 'POST',
        headers: { 'x-api-key': TOKEN, 'content-type': 'application/json' },
        body: JSON.stringify({ id, name: id }),
      });
    expect((await register('cam-1')).status).toBe(201);
    expect((await register('cam-2')).status).toBe(507);
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const bad = await runCli(['ingest-server', '--port', '0', '--out', out, '--max-connections', '0'], {
      timeoutMs: 15_000,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'trio-relay: --max-connections 0: expected a whole number from 1 to 1000000',
    );
  });
});
