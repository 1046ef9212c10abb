import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { fastRelayArgs, newSpoolDir, TOKEN } from '../helpers/relay-run.js';

/**
 * A password-protected camera, passwords as awkward as an attacker would pick them (`@ : / %`
 * and a space, percent-encoded in the URL), and a search of every byte the relay wrote for them
 * and for the token: stdout, stderr (human, verbose and --json), every file under the spool.
 */
const USER = 'admin';
const PASSWORD = 'pa@ss:w/o%rd x';
const WRONG = 'wr@ng:pa/s%s y';

let basic: Camera;
let digest: Camera;
let ingest: IngestServer;

beforeAll(async () => {
  [basic, digest, ingest] = await Promise.all([
    startCamera({ user: USER, password: PASSWORD }),
    startCamera({ user: USER, password: PASSWORD, auth: 'digest' }),
    startTestIngest(),
  ]);
});
cleanUpAfterAll(() => ingest.close());

/**
 * `encoded`: every awkward character percent-encoded. `raw`: `@` and `:` left as typed (ffmpeg
 * and WHATWG URL both take the userinfo up to the last `@`); `/ % space` must be encoded.
 */
function sourceUrl(camera: Camera, password: string, spelling: 'encoded' | 'raw'): string {
  const url = new URL(camera.url);
  const pw = spelling === 'encoded' ? encodeURIComponent(password) : rawSpelling(password);
  return `rtsp://${USER}:${pw}@${url.host}${url.pathname}`;
}

function rawSpelling(password: string): string {
  return password.replace(/[%/ ]/g, (c) => encodeURIComponent(c));
}

/** Every spelling of each secret, and tails of them (a mask that stops early leaves a tail). */
function forbidden(): string[] {
  return [PASSWORD, WRONG]
    .flatMap((pw) => {
      const encoded = encodeURIComponent(pw);
      const whatwg = new URL(`rtsp://u:${encoded}@h/`).password;
      const raw = rawSpelling(pw);
      return [
        pw,
        encoded,
        whatwg,
        raw,
        JSON.stringify(pw).slice(1, -1),
        pw.slice(3),
        encoded.slice(5),
        raw.slice(3),
      ];
    })
    .concat([TOKEN]);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** What the relay wrote, by where it went: each is searched for every forbidden string. */
function written(relay: CliProcess, spool: string): Record<string, string> {
  const out: Record<string, string> = { stdout: relay.stdout(), stderr: relay.stderr() };
  for (const file of filesUnder(spool)) out[file] = readFileSync(file, 'latin1');
  return out;
}

function expectNoSecret(where: Record<string, string>): void {
  for (const [place, text] of Object.entries(where)) {
    for (const secret of forbidden()) {
      expect(
        text.includes(secret),
        `${JSON.stringify(secret)} found in ${place}:\n${text.slice(-3000)}`,
      ).toBe(false);
    }
  }
}

function relayArgs(source: string, spool: string, camera: string, mode: 'json' | 'verbose'): string[] {
  const args = fastRelayArgs(source, ingest.url, spool, ['--camera-id', camera]);
  return mode === 'json' ? args : [...args.filter((a) => a !== '--json'), '-v'];
}

describe('a password-protected camera', () => {
  it.each([
    { auth: 'basic', camera: () => basic, spelling: 'encoded', mode: 'json' },
    { auth: 'digest', camera: () => digest, spelling: 'raw', mode: 'verbose' },
  ] as const)(
    'with the right awkward password ($auth auth, $spelling in the URL): segments arrive, no secret written ($mode output)',
    async ({ auth, camera, spelling, mode }) => {
      const spool = newSpoolDir();
      const id = `cam-auth-${auth}`;
      const relay = startCli(relayArgs(sourceUrl(camera(), PASSWORD, spelling), spool, id, mode));
      try {
        await ingest.waitFor(() => ingest.accepted(id).length >= 3, 30_000);
      } catch (error) {
        throw new Error(`${String(error)}\n--- relay stderr ---\n${relay.stderr().slice(-4000)}`);
      }
      // The spool while it holds a live run (journal, state, lock), and again after the stop.
      expectNoSecret(written(relay, spool));
      relay.kill('SIGTERM');
      expect(await relay.exited, relay.stderr()).toEqual({ code: 0, signal: null });
      expectNoSecret(written(relay, spool));
    },
  );

  it.each([
    { spelling: 'raw', mode: 'json' },
    { spelling: 'encoded', mode: 'verbose' },
  ] as const)(
    'with a wrong awkward password ($spelling in the URL): one clear line, a slow retry, no secret written ($mode output)',
    async ({ spelling, mode }) => {
      const spool = newSpoolDir();
      const relay = startCli(relayArgs(sourceUrl(basic, WRONG, spelling), spool, `cam-wrong-${mode}`, mode));
      const clear =
        /camera rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/stream refused the user\/password in --source \(401 Unauthorized\): check them; refused 1 time\(s\) in a row, next try in (\d+) s/;
      const [, nextS] = await relay.waitForOutput(clear, 30_000, 'stderr');
      expect(Number(nextS)).toBeGreaterThanOrEqual(30);
      if (mode === 'json') {
        await relay.waitFor(
          () => relay.events().some((e) => e.type === 'ffmpeg' && e.phase === 'restarting'),
          10_000,
          'the restart event',
        );
        const errors = relay.events().filter((e) => e.type === 'error');
        expect(errors.map((e) => e.code)).toEqual(['ERR_CAMERA_AUTH']);
        const restart = relay.events().find((e) => e.type === 'ffmpeg' && e.phase === 'restarting');
        expect(restart!.delayMs).toBeGreaterThanOrEqual(30_000);
      } else {
        // Verbose echoes ffmpeg's own last lines, which quote the URL: masked.
        await relay.waitForOutput(/Server returned 401 Unauthorized/, 10_000, 'stderr');
        expect(relay.stderr()).toMatch(/rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/stream: Server returned 401/);
      }
      relay.kill('SIGTERM');
      expect(await relay.exited, relay.stderr()).toEqual({ code: 0, signal: null });
      expectNoSecret(written(relay, spool));
    },
  );
});
