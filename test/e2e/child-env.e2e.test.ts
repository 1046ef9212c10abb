import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IngestServer } from '../../src/ingest-server/server.js';
import { type Camera, startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { startCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { childPids } from '../helpers/proc.js';
import { fastRelayArgs, newSpoolDir, waitForClosed } from '../helpers/relay-run.js';

/**
 * ffmpeg runs as long as the relay, and /proc/<pid>/environ shows its environment to its user
 * and root (and to anyone, without hidepid, for as long as it is readable). The relay's secrets
 * come in TRIO_* variables: ffmpeg must get none of them, only what it needs.
 */
const TOKEN = 'env-token-8c1d2e3f';
const CAMERA_PASSWORD = 'env-camera-pw-77';

let camera: Camera;
let ingest: IngestServer;
beforeAll(async () => {
  [camera, ingest] = await Promise.all([
    startCamera({ user: 'admin', password: 'rtsp-pw-in-env-1' }),
    startTestIngest(),
  ]);
});
cleanUpAfterAll(() => ingest.close());

/** The relay's ffmpeg: the child (setpriv execs into it, keeping the pid) whose comm is ffmpeg. */
function ffmpegPid(relayPid: number): number | undefined {
  const all = (pid: number): number[] => childPids(pid).flatMap((c) => [c, ...all(c)]);
  return all(relayPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
    } catch {
      return false;
    }
  });
}

describe("ffmpeg's environment", () => {
  it('holds no TRIO_* variable and none of their values; PATH, the locale and proxies pass', async () => {
    const spool = newSpoolDir();
    const args = fastRelayArgs('unused', ingest.url, spool, ['--camera-id', 'cam-env']);
    // Source and token from the environment, as under systemd's EnvironmentFile.
    const relay = startCli(
      args.filter(
        (_, i) =>
          !['--source', '--token'].includes(args[i]!) && !['--source', '--token'].includes(args[i - 1]!),
      ),
      {
        env: {
          TRIO_SOURCE: camera.url.replace('rtsp://', 'rtsp://admin:rtsp-pw-in-env-1@'),
          TRIO_TOKEN: 'e2e-token-5f1c',
          TRIO_CAMERA_PASSWORD: CAMERA_PASSWORD,
          TRIO_EXTRA_SECRET: TOKEN,
          LANG: 'C.UTF-8',
          no_proxy: '127.0.0.1',
        },
      },
    );
    await waitForClosed(relay, 1);
    const pid = ffmpegPid(relay.pid);
    expect(pid, 'a running ffmpeg').toBeDefined();
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    const names = environ
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(0, entry.indexOf('=')));
    expect(names.filter((name) => name.startsWith('TRIO_'))).toEqual([]);
    for (const secret of ['e2e-token-5f1c', CAMERA_PASSWORD, TOKEN, 'rtsp-pw-in-env-1'])
      expect(environ, secret).not.toContain(secret);
    expect(names).toEqual(expect.arrayContaining(['PATH', 'LANG', 'no_proxy']));
    relay.kill('SIGTERM');
    expect((await relay.exited).code, relay.stderr()).toBe(0);
  });
});
