import { createHash } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { ConfigError } from '../errors.js';
import { withoutUserinfo } from './credentials.js';
import type { Source } from './source.js';

/** RFC 4122 NAMESPACE_URL, as Python's `uuid.NAMESPACE_URL`. */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** RFC 4122 version-5 (SHA-1) UUID, byte-compatible with Python's `uuid.uuid5`. */
export function uuidv5(name: string, namespace: string = NAMESPACE_URL): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The first real MAC of this box as 12 hex digits, or undefined (containers may have none). */
export function machineMac(): string | undefined {
  const all = Object.values(networkInterfaces()).flat();
  for (const iface of all) {
    if (!iface || iface.internal) continue;
    const mac = iface.mac.replace(/:/g, '').toLowerCase();
    if (/^[0-9a-f]{12}$/.test(mac) && mac !== '000000000000') return mac;
  }
  return undefined;
}

/**
 * What the derived id hashes besides the MAC. `no-credentials` (the default): the source without
 * its userinfo, so the id stays when the password changes and cannot be brute-forced back to
 * the password (the id is in logs, /metrics, spool names and the ingest URL; the MAC is visible
 * on the LAN). `legacy`: the Python relay's rule, the source as typed, password included, for a
 * fleet whose cloud already knows its cameras by those ids.
 */
export const CAMERA_ID_DERIVATIONS = ['no-credentials', 'legacy'] as const;
export type CameraIdDerivation = (typeof CAMERA_ID_DERIVATIONS)[number];

/**
 * Camera id as the Python relay derives it: UUIDv5(NAMESPACE_URL, "<mac>:<sha256(source)>"),
 * where a file source is normalized to its absolute path and anything else is trimmed, and
 * (unless `legacy`) a URL's userinfo is left out. Without a usable MAC the hostname stands in,
 * so derivation never fails.
 */
export function deriveCameraId(
  source: Source,
  derivation: CameraIdDerivation = 'no-credentials',
  mac: string | undefined = machineMac(),
): string {
  const hashed = derivation === 'legacy' ? source.normalized : withoutUserinfo(source.normalized);
  const digest = createHash('sha256').update(hashed, 'utf8').digest('hex');
  return uuidv5(`${mac ?? hostname()}:${digest}`);
}

/**
 * The one camera-id rule, for `--camera-id` and the ingest's paths alike: up to 128 letters,
 * digits, `.`, `_` or `-`, not starting with a punctuation mark (so never `..`: ids are folder
 * names on both sides).
 */
export function isValidCameraId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id);
}

/** `--camera-id`, checked by isValidCameraId; throws ConfigError (exit 2). */
export function parseCameraId(value: string): string {
  if (!isValidCameraId(value)) {
    throw new ConfigError(`--camera-id ${value}: expected up to 128 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

/** `--camera-id-derivation`: one of CAMERA_ID_DERIVATIONS; throws ConfigError (exit 2). */
export function parseCameraIdDerivation(value: string): CameraIdDerivation {
  if (!(CAMERA_ID_DERIVATIONS as readonly string[]).includes(value)) {
    throw new ConfigError(
      `--camera-id-derivation ${value}: expected one of ${CAMERA_ID_DERIVATIONS.join(', ')}`,
    );
  }
  return value as CameraIdDerivation;
}
