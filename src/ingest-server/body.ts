import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

export type ReceivedBody =
  /** The whole body is in `temp`, which the caller renames or removes. */
  | { kind: 'stored'; temp: string; size: number; sha256: string }
  /** More than the limit arrived; nothing kept, the rest of the body is left unread. */
  | { kind: 'too_large'; size: number }
  /** The client went away before the body ended; nothing kept. */
  | { kind: 'aborted'; size: number };

/**
 * Stream a request body into a temp file in `dir`, hashing as it goes, so a segment is never
 * held whole in memory. The temp name starts with a dot: it is never mistaken for a segment.
 */
export async function receiveBody(req: IncomingMessage, dir: string, maxBytes: number): Promise<ReceivedBody> {
  const temp = join(dir, `.incoming-${randomBytes(6).toString('hex')}`);
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  const hash = createHash('sha256');
  let size = 0;
  let tooLarge = false;
  try {
    // destroyOnReturn: false, so stopping at the limit leaves the socket up to answer 413.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        break;
      }
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain'); // rejects if the disk write fails
    }
    out.end();
    await finished(out);
  } catch {
    await discard(out, temp);
    return { kind: 'aborted', size };
  }
  if (tooLarge) {
    await discard(out, temp);
    return { kind: 'too_large', size };
  }
  return { kind: 'stored', temp, size, sha256: hash.digest('hex') };
}

async function discard(out: ReturnType<typeof createWriteStream>, temp: string): Promise<void> {
  out.destroy();
  await finished(out).catch(() => {});
  await rm(temp, { force: true });
}
