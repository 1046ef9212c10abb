import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllClis, startCli } from '../helpers/cli.js';
import { listenOnFreePort } from '../helpers/ports.js';
import { fastRelayArgs, newSpoolDir } from '../helpers/relay-run.js';

/**
 * An ingest that refuses every segment (422) and echoes the request's API key back, as an
 * HTML error page escapes it and as a debugging proxy base64-encodes the headers. The relay
 * keeps that answer in its warning line and in `trio-relay-rejected/*.json`: no spelling of
 * the key may be in either.
 */
const KEY = `k3y<&>"'-echo-7f21c0ffee`;

const html = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#x27;');

let server: Server;
let cloud: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    for await (const _ of req) {
      // read the segment to its end
    }
    if (req.url === '/api/cameras') return res.writeHead(201).end('{}');
    if (req.method === 'DELETE') return res.writeHead(204).end();
    const key = String(req.headers['x-api-key']);
    const headers = Buffer.from(`POST ${req.url}\nx-api-key: ${key}\n`).toString('base64');
    res
      .writeHead(422, { 'content-type': 'text/html' })
      .end(
        `<p>bad segment for key ${html(key)}</p><pre>${headers}</pre><i>${Buffer.from(key).toString('base64')}</i>`,
      );
  });
  cloud = `http://127.0.0.1:${await listenOnFreePort(server)}`;
});
afterAll(async () => {
  killAllClis();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The key in any spelling: raw, HTML-escaped, or inside any base64 run of the text. */
function keyIn(text: string): string | undefined {
  if (text.includes(KEY)) return 'raw';
  if (text.includes(html(KEY)) || text.includes(html(KEY).replace('&#x27;', '&#39;'))) return 'HTML-escaped';
  const core = KEY.slice(2, -2);
  for (const run of text.match(/[A-Za-z0-9+/]{8,}={0,2}/g) ?? []) {
    for (let skip = 0; skip < 4; skip++) {
      if (Buffer.from(run.slice(skip), 'base64').toString('latin1').includes(core)) return `base64 ${run}`;
    }
  }
  return undefined;
}

describe('an ingest that echoes the key back HTML-escaped and base64-encoded', () => {
  it('the warning line and the rejected note hold no spelling of it', async () => {
    const spool = newSpoolDir();
    const args = fastRelayArgs('testsrc', cloud, spool, ['--camera-id', 'cam-echo']).map((arg, i, all) =>
      all[i - 1] === '--token' ? KEY : arg,
    );
    const relay = startCli(args, { env: { TRIO_TOKEN: undefined } });
    await relay.waitForOutput(/rejected with HTTP 422/, 30_000, 'stderr');
    const notesDir = join(spool, 'trio-relay-rejected', 'cam-echo');
    await relay.waitFor(
      () => existsSync(notesDir) && readdirSync(notesDir).some((n) => n.endsWith('.json')),
      10_000,
      'a rejected note',
    );
    relay.kill('SIGTERM');
    await relay.exited;
    const notes = readdirSync(notesDir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => readFileSync(join(notesDir, n), 'utf8'));
    expect(notes.join('')).toContain('bad segment for key ***');
    for (const [place, text] of [['stderr', relay.stderr()], ...notes.map((n, i) => [`note ${i}`, n])]) {
      expect(keyIn(text!), `${place}:\n${text}`).toBeUndefined();
    }
  });
});
