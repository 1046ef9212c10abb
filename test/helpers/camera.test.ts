import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { connect, createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Camera, startCamera, stopAllCameras } from './camera.js';
import { readCameraLog } from './oracle.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Debian's ffmpeg 5.1 takes the RTSP socket timeout as -timeout; 4.1 as -stimeout (there -timeout means listen!). */
const ffmpegMajor = Number(
  /ffmpeg version (\d+)\./.exec(execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }))?.[1] ?? 4,
);

/** An RTSP/TCP client counting the frames it receives, from ffmpeg's -progress output. */
interface Reader {
  frames(): number;
  waitForFrames(n: number, timeoutMs: number): Promise<void>;
  readonly exited: Promise<{ code: number | null; stderr: string }>;
  kill(): void;
}

function startReader(url: string, ioTimeoutS?: number): Reader {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-rtsp_transport', 'tcp'];
  if (ioTimeoutS) args.push(ffmpegMajor >= 5 ? '-timeout' : '-stimeout', String(ioTimeoutS * 1_000_000));
  args.push('-i', url, '-map', '0:v', '-c', 'copy', '-f', 'null', '-progress', 'pipe:1');
  if (ffmpegMajor >= 5) args.push('-stats_period', '0.1');
  const child: ChildProcess = spawn('ffmpeg', [...args, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  readers.add(child);
  let frames = 0;
  let stderr = '';
  const changes = new EventEmitter();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const m of chunk.matchAll(/^frame=(\d+)$/gm)) frames = Math.max(frames, Number(m[1]));
    changes.emit('change');
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.once('close', (code) => {
      readers.delete(child);
      changes.emit('change');
      resolve({ code, stderr });
    });
  });
  return {
    frames: () => frames,
    waitForFrames: (n, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const onChange = () => {
          if (frames >= n) finish();
          else if (child.exitCode !== null || child.signalCode !== null) finish(`ffmpeg exited: ${stderr}`);
        };
        const timer = setTimeout(() => finish(`not within ${timeoutMs} ms: ${stderr}`), timeoutMs);
        const finish = (failure?: string) => {
          clearTimeout(timer);
          changes.off('change', onChange);
          if (failure) reject(new Error(`waiting for ${n} frames (have ${frames}): ${failure}`));
          else resolve();
        };
        changes.on('change', onChange);
        onChange();
      }),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

const readers = new Set<ChildProcess>();

/** Resolves with whether a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the test camera', () => {
  let camera: Camera;

  beforeAll(async () => {
    camera = await startCamera();
  });

  afterAll(async () => {
    for (const child of readers) child.kill('SIGKILL');
    await stopAllCameras();
  });

  it('serves H.264 over RTSP/TCP on loopback', async () => {
    expect(camera.url).toBe(`rtsp://127.0.0.1:${camera.port}/stream`);
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v'],
      ...['-show_entries', 'stream=codec_name,width,height', '-of', 'json', camera.url],
    ]);
    expect(JSON.parse(stdout).streams).toEqual([{ codec_name: 'h264', width: 320, height: 240 }]);
  });

  it('logs each client session and the frames it was sent (the oracle reads this)', async () => {
    const before = readCameraLog(camera.frameLog).length;
    const reader = startReader(camera.url);
    await reader.waitForFrames(20, 15_000);
    reader.kill();
    await reader.exited;
    await expect
      .poll(() => readCameraLog(camera.frameLog).at(-1)?.closeAt, { timeout: 3000, interval: 50 })
      .toBeDefined();
    const sessions = readCameraLog(camera.frameLog);
    expect(sessions).toHaveLength(before + 1);
    const session = sessions.at(-1)!;
    // At least what the reader counted, at 10 fps: frames x 0.1 s.
    expect(session.frames).toBeGreaterThanOrEqual(20);
    expect(session.streamedS).toBeCloseTo(session.frames / 10, 5);
    expect(session.closeAt! - session.playAt).toBeGreaterThanOrEqual((session.frames - 1) * 100 - 50);
  });

  it('stall() stops the frames but keeps sessions open; resume() brings them back', async () => {
    // One after the other: two clients joining the shared media at the same moment can make
    // gst-rtsp-server refuse one (ffmpeg's "Operation not permitted") on a loaded box.
    const patient = startReader(camera.url);
    await patient.waitForFrames(5, 15_000);
    const timingOut = startReader(camera.url, 3);
    await timingOut.waitForFrames(5, 15_000);

    await camera.stall();
    const atStall = patient.frames();
    // The RTSP I/O timeout (3 s) fires. gst-rtsp-server keeps sending RTCP about every 5 s over the
    // stalled session, so it fires later than 3 s after the stall (6.5-8.5 s measured).
    // ffmpeg exits 0 here, as if the stream had ended.
    const { stderr } = await timingOut.exited;
    expect(stderr).toMatch(/timed out/i);
    // Meanwhile the other session got nothing (a frame or two may have been in flight) and stayed open.
    expect(patient.frames() - atStall).toBeLessThanOrEqual(3);
    await camera.resume();
    await patient.waitForFrames(atStall + 10, 10_000);
    patient.kill();
  });

  it('stop() frees the port and ends sessions; restart() serves again on the same port', async () => {
    const reader = startReader(camera.url);
    await reader.waitForFrames(3, 15_000);
    const oldPid = camera.pid;

    await camera.stop();
    expect(alive(oldPid)).toBe(false);
    expect(await accepts(camera.port)).toBe(false);
    await reader.exited;
    await camera.stop(); // a no-op now

    await camera.restart();
    expect(camera.pid).not.toBe(oldPid);
    const again = startReader(camera.url);
    await again.waitForFrames(3, 15_000);
    again.kill();
    // Signals reach the new process.
    await camera.stall();
    await camera.resume();
  });

  it('rejects with the reason when it cannot listen', async () => {
    const port = await freePort();
    const squatter = createServer().listen(port, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      await expect(startCamera({ port })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      squatter.close();
    }
  });

  it('stall() on a stopped camera rejects instead of signalling a stranger', async () => {
    const other = await startCamera({ fps: 5, width: 160, height: 120 });
    await other.stop();
    await expect(other.stall()).rejects.toThrow(/not running/);
  });

  it('with mounts: N serves N paths, an encoder each (bitrate and pattern passed to x264)', async () => {
    const many = await startCamera({
      mounts: 3,
      bitrateKbps: 1500,
      pattern: 'snow',
      width: 320,
      height: 240,
    });
    expect(many.urls).toEqual([many.url, `${many.url}-2`, `${many.url}-3`]);
    const probes = await Promise.all(
      many.urls.map((url) =>
        run('ffprobe', [
          ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v'],
          ...['-show_entries', 'stream=codec_name,width', '-of', 'json', url],
        ]),
      ),
    );
    for (const { stdout } of probes)
      expect(JSON.parse(stdout).streams).toEqual([{ codec_name: 'h264', width: 320 }]);
    // Each PLAY is logged with its mount, so a test can tell the cameras of one process apart.
    const mounts = readCameraLog(many.frameLog).map((session) => session.path);
    expect(mounts.sort()).toEqual(['/stream', '/stream-2', '/stream-3']);
    await many.stop();
  });

  it('stopAllCameras() stops every camera still running', async () => {
    const other = await startCamera();
    const pids = [camera.pid, other.pid];
    await stopAllCameras();
    expect(pids.filter(alive)).toEqual([]);
  });
});
