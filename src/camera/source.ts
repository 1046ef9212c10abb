import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { hideUserinfo, maskUserinfoLike, redactUrl, registerUrlSecrets } from '../redact.js';

import type { SourceKind } from '../types.js';

export type { SourceKind };

/** A parsed `--source`: what ffmpeg reads and how the camera id is derived from it. */
export interface Source {
  readonly kind: SourceKind;
  /** What ffmpeg gets as `-i` (a URL, a path, a device, or a lavfi graph name). */
  readonly input: string;
  /** The string hashed into the camera id (absolute path for files, trimmed string otherwise). */
  readonly normalized: string;
  /** Safe to log: URL passwords masked. */
  readonly display: string;
  /** True when the source never ends by itself (a camera), false for a file. */
  readonly live: boolean;
  /** For network sources: where a cheap TCP probe can tell the camera is back. */
  readonly probe?: { host: string; port: number } | undefined;
}

const DEFAULT_PORTS: Record<string, number> = { 'rtsp:': 554, 'rtsps:': 322, 'http:': 80, 'https:': 443 };

/** Parse and check `--source`; throws ConfigError naming the flag and value. */
export function parseSource(raw: string): Source {
  const text = raw.trim();
  if (text === '')
    throw new ConfigError('--source is empty: give an rtsp:// URL, a file, /dev/videoN or testsrc');
  if (/^testsrc2?$/i.test(text)) {
    return { kind: 'testsrc', input: text.toLowerCase(), normalized: text, display: text, live: true };
  }
  if (/^\d+$/.test(text)) return v4l2(`/dev/video${text}`, text);
  if (/^\/dev\/video\d+$/.test(text)) return v4l2(text, text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return networkSource(text);
  return fileSource(text);
}

function v4l2(device: string, normalized: string): Source {
  return { kind: 'v4l2', input: device, normalized, display: device, live: true };
}

function networkSource(text: string): Source {
  // Before any message can quote it: from here on the password is masked wherever it appears.
  registerUrlSecrets(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`--source ${hideUserinfo(text)} is not a valid URL`);
  }
  const kind: SourceKind | undefined =
    url.protocol === 'rtsp:' || url.protocol === 'rtsps:'
      ? 'rtsp'
      : url.protocol === 'http:' || url.protocol === 'https:'
        ? 'http'
        : undefined;
  if (!kind) {
    throw new ConfigError(
      `--source ${redactUrl(text)}: unsupported scheme ${url.protocol} (use rtsp://, rtsps://, http(s)://, a file, /dev/videoN or testsrc)`,
    );
  }
  if (!url.hostname) throw new ConfigError(`--source ${redactUrl(text)} has no host`);
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol]!;
  // URL brackets IPv6 hosts; net.connect wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind, input: text, normalized: text, display: redactUrl(text), live: true, probe: { host, port } };
}

/** Why a file cannot be read, without the path (Node's message repeats it, unmasked). */
const FILE_PROBLEM: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/**
 * Anything else is a file path, and may be a mistyped URL (`rtsp:/admin:pw@cam`): quoted with
 * what looks like userinfo masked.
 */
function fileSource(text: string): Source {
  const path = resolve(text);
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    accessSync(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === undefined ? (error as Error).message : (FILE_PROBLEM[code] ?? code);
    throw new ConfigError(`--source ${maskUserinfoLike(text)}: cannot read the file (${why})`);
  }
  return { kind: 'file', input: path, normalized: path, display: maskUserinfoLike(path), live: false };
}
