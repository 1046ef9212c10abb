import { type CameraIdDerivation, deriveCameraId } from '../camera/camera-id.js';
import type { AudioMode, CaptureSettings, Codec, Encoder, Resolution } from '../camera/ffmpeg-args.js';
import type { Source } from '../camera/source.js';
import type { UploadOrder } from '../types.js';
import type { ProxyRoute } from './proxy.js';

// What resolveRelayConfig (relay-config.ts) makes of the flags: a camera's settings and the
// process's, apart, so no caller reads the process's from a camera.

/**
 * One camera's validated, frozen settings: what its capture, spool and uploads use. The settings
 * of the process around it (the upload pool, the HTTP agent, telemetry, output) are ProcessSettings.
 */
export interface CameraConfig {
  readonly cloud: string;
  readonly source: Source;
  readonly cameraId: string | undefined;
  /** How the id is derived without --camera-id: see CAMERA_ID_DERIVATIONS. */
  readonly cameraIdDerivation: CameraIdDerivation;
  readonly name: string | undefined;
  readonly token: string;
  readonly resolution: Resolution | undefined;
  readonly fps: number;
  readonly segmentDurationS: number;
  readonly codec: Codec;
  readonly audio: AudioMode;
  readonly encoder: Encoder;
  readonly spoolDir: string;
  readonly maxSpoolBytes: number;
  readonly uploadTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly staleAfterMs: number;
  readonly ioTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly maxRestarts: number;
  /** /readyz fails once the oldest undelivered segment is older than this. */
  readonly readyMaxBacklogMs: number;
}

/** The shared upload pool's settings. */
export interface UploadSettings {
  /** Requests in flight at once over every camera of the process. */
  readonly concurrency: number;
  readonly order: UploadOrder;
  /** --max-upload-rate, bytes per second over every upload of the process; undefined: no cap. */
  readonly maxRateBytesPerS: number | undefined;
}

/** The relay process's own settings, one set for all its cameras (a `cameras:` entry cannot set them). */
export interface ProcessSettings {
  /** --ffmpeg: located once for every camera. */
  readonly ffmpeg: string | undefined;
  readonly upload: UploadSettings;
  /** --max-total-spool-mb: one bound over every camera's spool of the process; undefined: none. */
  readonly maxTotalSpoolBytes: number | undefined;
  /** The retry pacer's backoff, shared by every camera's uploads. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retryAfterMaxMs: number;
  /** Serve /metrics, /healthz and /readyz on this port (0: any free one); undefined: off. */
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  readonly verbose: boolean;
  readonly json: boolean;
  /** PEM certificates trusted besides the default roots (--ca-file); undefined: Node's defaults. */
  readonly extraCa: readonly string[] | undefined;
  /** Through which HTTP(S) proxy the ingest is reached (--proxy, HTTPS_PROXY…), or directly. */
  readonly proxy: ProxyRoute;
}

/** What the flags of one relay run resolve to: its camera and its process. */
export interface RelayConfig {
  readonly camera: CameraConfig;
  readonly process: ProcessSettings;
}

/** The camera's id: --camera-id, else derived from the MAC and the source (--camera-id-derivation). */
export function cameraIdOf(config: CameraConfig): string {
  return config.cameraId ?? deriveCameraId(config.source, config.cameraIdDerivation);
}

/** The name sent at registration: --name, else one made from the id. */
export function cameraNameOf(config: CameraConfig, cameraId: string = cameraIdOf(config)): string {
  return config.name ?? `trio-relay ${cameraId.slice(0, 8)}`;
}

/** What capture needs of the config: for the supervisor's ffmpeg and doctor's probe alike. */
export function captureSettingsOf(config: CameraConfig): CaptureSettings {
  return {
    fps: config.fps,
    resolution: config.resolution,
    segmentDurationS: config.segmentDurationS,
    codec: config.codec,
    encoder: config.encoder,
    audio: config.audio,
    ioTimeoutS: config.ioTimeoutMs / 1000,
  };
}
