import { randomBytes } from 'node:crypto';
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cameraRefusal } from '../camera/camera-refusal.js';
import { runToCompletion } from '../camera/exec.js';
import { ENCODERS } from '../camera/ffmpeg-args.js';
import { type FfmpegBinary, locateFfmpeg } from '../camera/ffmpeg-locate.js';
import { sampleSource } from '../camera/sample-source.js';
import {
  type CameraConfig,
  cameraIdOf,
  cameraNameOf,
  captureSettingsOf,
  type ProcessSettings,
} from '../config/relay-config.js';
import { isRelayError } from '../errors.js';
import { redact } from '../redact.js';
import { classify } from '../uploader/classify.js';
import { CloudApi } from '../uploader/cloud.js';
import type { HttpOutcome, HttpTransport } from '../uploader/transport.js';
import { checkProxy } from './proxy-check.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the checklist: what was checked, what was found, what to do about it. */
export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly hint?: string | undefined;
}

export interface DoctorOptions {
  readonly transport: HttpTransport;
  /** Seconds of the source to read. */
  readonly sourceSeconds: number;
  /** A wall clock this far from the ingest's `Date` fails the clock check. */
  readonly maxClockSkewS: number;
  readonly now?: () => number;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** A 401 from the camera; a YAML comment is the quiet way a password loses its end. */
const CREDENTIALS_HINT =
  "check --user and the password; in a URL, percent-encode '@ : / % #' and spaces; in a YAML config file, put the value in quotes: an unquoted ' #' starts a comment and cuts the rest off";

/**
 * Every check an operator would otherwise do by hand, in the order a relay needs them: ffmpeg,
 * the camera, the proxy and the ingest (reachable, TLS, key), the spool, the clock. A check that cannot run
 * because an earlier one failed is skipped, with the reason.
 */
export async function runChecks(
  config: CameraConfig,
  settings: ProcessSettings,
  options: DoctorOptions,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const ffmpeg = await checkFfmpeg(config, settings.ffmpeg, results);
  await checkSource(config, ffmpeg, options, results);
  const reached = await checkIngest(config, settings, options, results);
  await checkKey(config, options, reached, results);
  await checkSpool(config, results);
  checkClock(reached, options, results);
  return results;
}

async function checkFfmpeg(
  config: CameraConfig,
  path: string | undefined,
  results: CheckResult[],
): Promise<FfmpegBinary | undefined> {
  let ffmpeg: FfmpegBinary;
  try {
    ffmpeg = await locateFfmpeg(path);
  } catch (error) {
    results.push({ check: 'ffmpeg', status: 'fail', detail: messageOf(error) });
    return undefined;
  }
  const listed = await runToCompletion(ffmpeg.path, ['-hide_banner', '-encoders'], REQUEST_TIMEOUT_MS);
  const encoders = ENCODERS.filter((name) => new RegExp(`^\\s*V\\S*\\s+${name}\\b`, 'm').test(listed.stdout));
  const detail = `${ffmpeg.path}, version ${ffmpeg.version} (${ffmpeg.origin}); H.264 encoders: ${encoders.join(', ') || 'none'}`;
  const needed = config.codec === 'h264' ? config.encoder : undefined;
  if (needed && !encoders.includes(needed)) {
    results.push({
      check: 'ffmpeg',
      status: 'fail',
      detail,
      hint: `this ffmpeg has no ${needed}: pick another --encoder, or --codec copy`,
    });
  } else {
    results.push({ check: 'ffmpeg', status: 'ok', detail });
  }
  return ffmpeg;
}

async function checkSource(
  config: CameraConfig,
  ffmpeg: FfmpegBinary | undefined,
  options: DoctorOptions,
  results: CheckResult[],
): Promise<void> {
  const check = 'source';
  if (!ffmpeg) {
    results.push({ check, status: 'skip', detail: `${config.source.display}: needs ffmpeg` });
    return;
  }
  const result = await sampleSource(ffmpeg, config.source, captureSettingsOf(config), options.sourceSeconds);
  if (!result.ok) {
    const auth = cameraRefusal([result.reason]) !== undefined;
    results.push({
      check,
      status: 'fail',
      detail: auth
        ? `${config.source.display}: the camera refused the user and password (${result.reason})`
        : `${config.source.display}: ${result.reason}`,
      hint: auth ? CREDENTIALS_HINT : 'check the URL, that the camera is on, and that this box can reach it',
    });
    return;
  }
  const p = result.sample;
  const size = p.width && p.height ? ` ${p.width}x${p.height}` : '';
  const rate = p.fps ? ` ${p.fps} fps` : '';
  const gop =
    p.keyframeInterval === undefined
      ? `fewer than 2 keyframes in ${options.sourceSeconds} s`
      : `a keyframe every ${p.keyframeInterval} frames (${p.keyframeIntervalS} s)`;
  const sound = p.audioCodec ? `, audio ${p.audioCodec} (--audio ${config.audio})` : '';
  const detail = `${config.source.display}: ${p.codec}${size}${rate}, ${gop}${sound}`;
  // Copied video can only be cut at keyframes: segments come out as long as the GOP at least.
  const longGop =
    config.codec === 'copy' &&
    (p.keyframeIntervalS === undefined || p.keyframeIntervalS > config.segmentDurationS);
  if (config.codec === 'copy' && p.codec !== 'h264') {
    results.push({
      check,
      status: 'fail',
      detail,
      hint: `--codec copy passes ${p.codec} through, but the ingest takes H.264: use --codec h264`,
    });
  } else if (config.audio === 'copy' && p.audioCodec && !TS_AUDIO.has(p.audioCodec)) {
    results.push({
      check,
      status: 'warn',
      detail,
      hint: `MPEG-TS cannot carry ${p.audioCodec} as it is (it would be an unreadable data stream): use --audio aac`,
    });
  } else if (longGop) {
    results.push({
      check,
      status: 'warn',
      detail,
      hint: `with --codec copy, segments are cut at keyframes: longer than --segment-duration ${config.segmentDurationS}; shorten the camera's I-frame interval`,
    });
  } else {
    results.push({ check, status: 'ok', detail });
  }
}

/** Audio codecs MPEG-TS carries as they are, so `--audio copy` keeps them playable. */
const TS_AUDIO: ReadonlySet<string> = new Set(['aac', 'mp3', 'mp2', 'ac3', 'eac3', 'opus']);

/** HEAD on the ingest path: any answer proves DNS, TCP and TLS (certificate verified) work. */
async function checkIngest(
  config: CameraConfig,
  settings: ProcessSettings,
  options: DoctorOptions,
  results: CheckResult[],
): Promise<(HttpOutcome & { kind: 'response'; receivedAt: number; rttMs: number }) | undefined> {
  const api = new CloudApi(config.cloud, config.token, cameraIdOf(config));
  const sent = (options.now ?? Date.now)();
  const outcome = await options.transport.send(api.probe(REQUEST_TIMEOUT_MS));
  const receivedAt = (options.now ?? Date.now)();
  const https = config.cloud.startsWith('https:');
  const { blocked, ...proxy } = checkProxy(settings.proxy, outcome);
  results.push(proxy);
  if (blocked) {
    results.push({ check: 'ingest', status: 'skip', detail: `${redact(config.cloud)}: needs the proxy` });
    results.push({ check: 'tls', status: 'skip', detail: 'needs the proxy' });
    return undefined;
  }
  if (outcome.kind !== 'response') {
    // The relay's own rule (uploader/classify.ts's certificate table): what it would stop on as TLS.
    const tls = classify(outcome).class === 'tls';
    results.push({
      check: 'ingest',
      status: 'fail',
      detail: `${redact(config.cloud)}: ${outcome.code} ${redact(outcome.message)}`,
      hint: tls
        ? 'the ingest certificate is not trusted: add its CA (--ca-file or NODE_EXTRA_CA_CERTS) or fix the certificate'
        : settings.proxy.kind === 'proxy'
          ? 'the proxy could not reach the ingest: check --cloud, and that the proxy may reach it'
          : 'check --cloud, DNS, and that this box may reach the ingest (a proxy: HTTPS_PROXY or --proxy; a firewall)',
    });
    results.push({
      check: 'tls',
      status: https ? (tls ? 'fail' : 'skip') : 'skip',
      detail: https ? (tls ? outcome.code : 'the ingest did not answer') : 'plain http',
    });
    return undefined;
  }
  results.push({
    check: 'ingest',
    status: 'ok',
    detail: `${redact(config.cloud)} answers (HTTP ${outcome.status} to a HEAD) in ${receivedAt - sent} ms`,
  });
  results.push(
    https
      ? { check: 'tls', status: 'ok', detail: 'certificate verified' }
      : { check: 'tls', status: 'skip', detail: 'plain http' },
  );
  return { ...outcome, receivedAt, rttMs: receivedAt - sent };
}

/** Registration is the call that proves the key: it is idempotent, as every relay start makes it. */
async function checkKey(
  config: CameraConfig,
  options: DoctorOptions,
  reached: unknown,
  results: CheckResult[],
): Promise<void> {
  if (!reached) {
    results.push({ check: 'api key', status: 'skip', detail: 'needs the ingest' });
    return;
  }
  const cameraId = cameraIdOf(config);
  const api = new CloudApi(config.cloud, config.token, cameraId);
  const name = cameraNameOf(config, cameraId);
  const verdict = classify(
    await options.transport.send(api.register(name, config.source.kind, REQUEST_TIMEOUT_MS)),
  );
  switch (verdict.class) {
    case 'ok':
      results.push({ check: 'api key', status: 'ok', detail: `accepted; camera ${cameraId} registered` });
      return;
    case 'auth':
      results.push({
        check: 'api key',
        status: 'fail',
        detail: `the ingest answered ${verdict.status} to the registration`,
        hint: 'check the API key (--token, --token-file or TRIO_TOKEN)',
      });
      return;
    case 'proxy-auth':
      results.push({
        check: 'api key',
        status: 'fail',
        detail: `the proxy refused the registration: ${redact(verdict.reason)}`,
        hint: 'check the user and password in the proxy URL, not the API key',
      });
      return;
    case 'reject':
      results.push({
        check: 'api key',
        status: 'warn',
        detail: `registration refused with HTTP ${verdict.status} (the relay sends segments anyway)`,
      });
      return;
    default:
      results.push({
        check: 'api key',
        status: 'fail',
        detail: `registration failed: ${redact(verdict.reason)}`,
      });
  }
}

async function checkSpool(config: CameraConfig, results: CheckResult[]): Promise<void> {
  const probe = join(config.spoolDir, `.trio-relay-doctor-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, 'doctor', { mode: 0o600, flag: 'wx' });
    await unlink(probe);
  } catch (error) {
    results.push({
      check: 'spool',
      status: 'fail',
      detail: `${config.spoolDir} is not writable: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`,
    });
    return;
  }
  const fs = await statfs(config.spoolDir);
  const free = fs.bavail * fs.bsize;
  const detail = `${config.spoolDir}: writable, ${mb(free)} free, bound --max-spool-mb ${mb(config.maxSpoolBytes)}`;
  if (free < config.maxSpoolBytes) {
    results.push({
      check: 'spool',
      status: 'warn',
      detail,
      hint: 'the disk fills before the bound: an outage will evict as disk-full; lower --max-spool-mb or free space',
    });
  } else {
    results.push({ check: 'spool', status: 'ok', detail });
  }
}

/** The ingest's `Date` against ours, allowing for the round trip (and `Date`'s 1 s resolution). */
function checkClock(
  reached: { date?: string | undefined; receivedAt: number; rttMs: number } | undefined,
  options: DoctorOptions,
  results: CheckResult[],
): void {
  const theirs = reached?.date ? Date.parse(reached.date) : Number.NaN;
  if (!reached || Number.isNaN(theirs)) {
    results.push({
      check: 'clock',
      status: 'skip',
      detail: reached ? 'the ingest sent no Date header' : 'needs the ingest',
    });
    return;
  }
  // Date has whole seconds: the server's clock read [theirs, theirs + 1 s) when it answered,
  // which by our clock was about half a round trip before the answer arrived.
  const oursThen = reached.receivedAt - reached.rttMs / 2;
  const skewS = Math.round((oursThen - (theirs + 500)) / 100) / 10;
  const slack = 0.5 + reached.rttMs / 2000;
  const off = Math.max(0, Math.abs(skewS) - slack);
  const detail = `${skewS >= 0 ? '+' : ''}${skewS} s against the ingest's clock`;
  if (off > options.maxClockSkewS) {
    results.push({
      check: 'clock',
      status: 'fail',
      detail,
      hint: 'segment start times will be off by as much: enable NTP (timedatectl set-ntp true, chrony)',
    });
  } else {
    results.push({ check: 'clock', status: 'ok', detail });
  }
}

function messageOf(error: unknown): string {
  return redact(isRelayError(error) || error instanceof Error ? error.message : String(error));
}

function mb(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
