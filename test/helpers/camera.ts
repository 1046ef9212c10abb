import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { tempDir } from './temp-dir.js';

/** Debian's python: the first python3 on PATH may be another one without `gi`. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./rtsp-camera.py', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 3000;
/** Attempts at a fresh port when another process takes the one freePort() picked. */
const PORT_ATTEMPTS = 3;

export interface CameraOptions {
  /** @default a free loopback port */
  port?: number;
  /** @default 10 */
  fps?: number;
  /** @default 320 */
  width?: number;
  /** @default 240 */
  height?: number;
  /** Frames between keyframes. @default fps (one per second) */
  keyint?: number;
  /** @default '/stream' */
  path?: string;
  /** x264 bitrate in kbit/s. @default x264enc's own (2048) */
  bitrateKbps?: number;
  /** videotestsrc pattern; `snow` is incompressible, so the stream runs at the bitrate. @default 'ball' */
  pattern?: string;
  /** Also serve `<path>-2` … `<path>-N`, an encoder each, as a recorder's channels (see `urls`). @default 1 */
  mounts?: number;
  /**
   * With `mounts`: one encoder for all of them (a 32-camera bench on a 2-core box). Not for
   * tests: gst-rtsp-server 1.22 then aborts now and then when two mounts' clients join at once.
   */
  oneMedia?: boolean;
  /** Require this account (RTSP basic auth, or digest with `auth`); anyone else gets 401. */
  user?: string;
  password?: string;
  /** @default 'basic' */
  auth?: 'basic' | 'digest';
  /** Also send a sine tone as a second RTP stream: AAC, or G.711 A-law/mu-law. @default 'none' */
  audio?: 'none' | 'aac' | 'pcma' | 'pcmu';
  /** Where the camera logs what it streamed (see rtsp-camera.py). @default a new temp file */
  frameLog?: string;
}

/** A real RTSP camera (gst-rtsp-server, H.264 over RTP) on a loopback port, controlled by signals to its PID. */
export interface Camera {
  /** `rtsp://127.0.0.1:<port><path>`, as the camera announced it. */
  readonly url: string;
  /** `url`, then `<url>-2` … `<url>-N` with `mounts: N`: many cameras of one server. */
  readonly urls: readonly string[];
  readonly port: number;
  /**
   * The camera's own record of what it streamed: PLAY/CLOSE per client and every frame with its
   * wall-clock time, kept across restart() (read it with readCameraLog in oracle.ts).
   */
  readonly frameLog: string;
  /** PID of the current camera process (a new one after restart()). */
  readonly pid: number;
  /**
   * Keep RTSP sessions open but send no more frames (a hung camera). A client connecting while
   * stalled gets no DESCRIBE answer until resume(). Resolves once the camera acknowledged it.
   */
  stall(): Promise<void>;
  /** Frames flow again on the open sessions. Resolves once the camera acknowledged it. */
  resume(): Promise<void>;
  /** SIGTERM, SIGKILL after 3 s; resolves once it exited. A no-op when it is not running. */
  stop(): Promise<void>;
  /** Stop if running, then start again on the same port and path (a camera reboot). */
  restart(): Promise<void>;
}

interface CameraProcess {
  child: ChildProcess;
  exited: Promise<void>;
  /** Resolves on the next stdout line equal to `line`; rejects if the camera exits first. */
  nextLine(line: string): Promise<void>;
}

const running = new Set<CameraProcess>();

export async function startCamera(cameraOptions: CameraOptions = {}): Promise<Camera> {
  const frameLog = cameraOptions.frameLog ?? join(tempDir('camera-log-'), 'frames.log');
  const options = { ...cameraOptions, frameLog };
  let port = options.port ?? (await freePort());
  let started: { proc: CameraProcess; url: string } | undefined;
  for (let attempt = 1; !started; attempt++) {
    try {
      started = await spawnCamera(port, options);
    } catch (error) {
      // freePort() only says the port was free a moment ago: on a lost race, pick another.
      const lostRace = options.port === undefined && /cannot listen/.test(String(error));
      if (!lostRace || attempt >= PORT_ATTEMPTS) throw error;
      port = await freePort();
    }
  }
  let { proc } = started;
  const { url } = started;

  const signal = (sig: 'SIGUSR1' | 'SIGUSR2', ack: string): Promise<void> => {
    const acked = proc.nextLine(ack);
    // Fire-and-forget callers must not crash the run with an unhandled rejection.
    acked.catch(() => {});
    if (!isRunning(proc.child)) return Promise.reject(new Error(`camera ${url} is not running`));
    process.kill(proc.child.pid!, sig);
    return acked;
  };

  const mounts = options.mounts ?? 1;
  return {
    url,
    urls: [url, ...Array.from({ length: mounts - 1 }, (_, i) => `${url}-${i + 2}`)],
    port,
    frameLog,
    get pid() {
      return proc.child.pid!;
    },
    stall: () => signal('SIGUSR1', 'STALLED'),
    resume: () => signal('SIGUSR2', 'RESUMED'),
    stop: () => stopProcess(proc),
    async restart() {
      await stopProcess(proc);
      proc = (await spawnCamera(port, options)).proc;
    },
  };
}

/** For afterAll: stop every camera still running in this test file. */
export async function stopAllCameras(): Promise<void> {
  await Promise.all([...running].map(stopProcess));
}

function spawnCamera(
  port: number,
  options: CameraOptions & { frameLog: string },
): Promise<{ proc: CameraProcess; url: string }> {
  const args = [SCRIPT, '--port', String(port), '--exit-on-stdin-eof', '--frame-log', options.frameLog];
  if (options.fps !== undefined) args.push('--fps', String(options.fps));
  if (options.width !== undefined) args.push('--width', String(options.width));
  if (options.height !== undefined) args.push('--height', String(options.height));
  if (options.keyint !== undefined) args.push('--keyint', String(options.keyint));
  if (options.path !== undefined) args.push('--path', options.path);
  if (options.bitrateKbps !== undefined) args.push('--bitrate', String(options.bitrateKbps));
  if (options.pattern !== undefined) args.push('--pattern', options.pattern);
  if (options.mounts !== undefined) args.push('--mounts', String(options.mounts));
  if (options.oneMedia) args.push('--one-media');
  if (options.user !== undefined) args.push('--user', options.user, '--password', options.password ?? '');
  if (options.auth !== undefined) args.push('--auth', options.auth);
  if (options.audio !== undefined) args.push('--audio', options.audio);
  // stdin stays an open pipe: the camera exits when it closes, i.e. when this process dies.
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');

  let stderr = '';
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const lineWaiters = new Set<(line: string) => void>();
  let partial = '';
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) for (const waiter of [...lineWaiters]) waiter(line.trim());
  });
  const exited = new Promise<void>((resolve) => {
    const gone = () => {
      running.delete(proc);
      resolve();
    };
    child.once('exit', gone);
    // No /usr/bin/python3: 'error' and possibly no 'exit' at all.
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      if (child.pid === undefined) gone();
    });
  });

  const nextLine = (wanted: string | RegExp) =>
    new Promise<string>((resolve, reject) => {
      const waiter = (line: string) => {
        if (typeof wanted === 'string' ? line !== wanted : !wanted.test(line)) return;
        lineWaiters.delete(waiter);
        resolve(line);
      };
      lineWaiters.add(waiter);
      void exited.then(() => {
        lineWaiters.delete(waiter);
        reject(
          new Error(
            `camera on port ${port} exited (${describeExit(child)}) while waiting for ${wanted}: ${stderr}`,
          ),
        );
      });
    });

  const proc: CameraProcess = {
    child,
    exited,
    nextLine: async (line) => {
      await nextLine(line);
    },
  };
  running.add(proc);

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`camera on port ${port} was not ready within ${READY_TIMEOUT_MS} ms: ${stderr}`));
      void stopProcess(proc);
    }, READY_TIMEOUT_MS);
    nextLine(/^READY rtsp:\/\//).then(
      (line) => {
        clearTimeout(timer);
        resolve({ proc, url: line.slice('READY '.length) });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

async function stopProcess(proc: CameraProcess): Promise<void> {
  if (!isRunning(proc.child)) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (isRunning(proc.child)) proc.child.kill('SIGKILL');
  }, KILL_AFTER_MS);
  await proc.exited;
  clearTimeout(timer);
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
}

// If the worker exits without afterAll (a crash, a bail), do not leave cameras behind.
process.once('exit', () => {
  for (const proc of running) proc.child.kill('SIGKILL');
});
