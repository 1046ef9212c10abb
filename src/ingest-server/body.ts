import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { TsChecker } from './ts-check.js';

const TEMP_PREFIX = '.incoming-';

/** Resolves when `bytes` more of a body may be read (a read-rate limit); see read-rate.ts. */
export type Throttle = (bytes: number) => Promise<void>;

export type ReceivedBody =
  /** The whole body is in `temp`, which the caller renames or removes. */
  | { kind: 'stored'; temp: string; size: number; sha256: string; firstPtsS: number | null }
  /** The bytes are not MPEG-TS (no sync byte where one must be); nothing kept, the rest unread. */
  | { kind: 'not_ts'; size: number }
  /** More than the limit arrived; nothing kept, the rest of the body is left unread. */
  | { kind: 'too_large'; size: number }
  /** The client went away before the body ended; nothing kept. */
  | { kind: 'aborted'; size: number };

/**
 * Stream a request body into a temp file in `dir`, hashing as it goes, so a segment is never
 * held whole in memory. The temp name starts with a dot: it is never mistaken for a segment.
 */
export async function receiveBody(
  req: IncomingMessage,
  dir: string,
  maxBytes: number,
  throttle?: Throttle,
  checkContent = true,
): Promise<ReceivedBody> {
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  const hash = createHash('sha256');
  let size = 0;
  let tooLarge = false;
  const checker = new TsChecker();
  let notTs = false;
  let diskError: unknown;
  out.on('error', (error) => {
    diskError = error;
  });
  try {
    // destroyOnReturn: false, so stopping at the limit leaves the socket up to answer 413.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        break;
      }
      if (!checker.push(chunk) && checkContent) {
        notTs = true;
        break;
      }
      hash.update(chunk);
      await throttle?.(chunk.length);
      if (!out.write(chunk)) await once(out, 'drain'); // rejects if the disk write fails
    }
    out.end();
    await finished(out);
  } catch {
    await discard(out, temp);
    // Our disk failing (full, say) is not the client going away: the caller answers 500.
    if (diskError !== undefined) throw diskError;
    return { kind: 'aborted', size };
  }
  if (tooLarge) {
    await discard(out, temp);
    return { kind: 'too_large', size };
  }
  // A body shorter than one packet passed every sync check it could: it is still no video.
  if (notTs || (checkContent && size > 0 && !checker.valid)) {
    await discard(out, temp);
    return { kind: 'not_ts', size };
  }
  return { kind: 'stored', temp, size, sha256: hash.digest('hex'), firstPtsS: checker.firstPtsS };
}

async function discard(out: ReturnType<typeof createWriteStream>, temp: string): Promise<void> {
  out.destroy();
  await finished(out).catch(() => {});
  await rm(temp, { force: true });
}

/** Remove temp files a crashed ingest left behind: bodies it never answered for. */
export async function removeStaleTemps(outDir: string): Promise<void> {
  const cameras = await readdir(outDir, { withFileTypes: true }).catch(() => []);
  for (const camera of cameras) {
    if (!camera.isDirectory()) continue;
    const names = await readdir(join(outDir, camera.name)).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) await rm(join(outDir, camera.name, name), { force: true });
    }
  }
}

/** A small body as text, or undefined when it is over `max` bytes. */
export async function readSmallBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read and discard the body; the byte count, even if the client goes away midway. */
export async function drain(req: IncomingMessage, throttle?: Throttle): Promise<number> {
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      await throttle?.(chunk.length);
    }
  } catch {
    // The client went away: what arrived is what we count.
  }
  return size;
}

/** Resolve with the size of the first body chunk (0 if the body ends or the client goes first). */
export function firstChunk(req: IncomingMessage): Promise<number> {
  return new Promise((resolve) => {
    const done = (size: number) => {
      req.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onEnd);
      req.pause();
      resolve(size);
    };
    const onData = (chunk: Buffer) => done(chunk.length);
    const onEnd = () => done(0);
    req.on('data', onData).once('end', onEnd).once('close', onEnd).once('error', onEnd);
  });
}
