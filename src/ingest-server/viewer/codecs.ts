import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { readTsCodecs, TS_PACKET, type TsCodecs } from '../ts-check.js';

/** ffmpeg writes its SDT, PAT and PMT first: a few packets hold them. */
const HEAD_BYTES = 16 * TS_PACKET;

/** The newest segment's codecs per camera (by out dir too: tests run several ingests). */
const newest = new Map<string, { file: string; codecs: TsCodecs | null }>();

/**
 * What the camera's newest stored segment carries, so the page can say when the browser cannot
 * play it (H.265 in most Chromium builds): read from its first packets once per file.
 */
export async function codecsOf(
  outDir: string,
  camera: string,
  file: string | undefined,
): Promise<TsCodecs | null> {
  if (file === undefined) return null;
  const key = `${outDir}\0${camera}`;
  const known = newest.get(key);
  if (known?.file === file) return known.codecs;
  const codecs = await readHead(join(outDir, camera, file)).then(
    (head) => readTsCodecs(head),
    () => null, // rotated away meanwhile: the next poll reads the next one
  );
  newest.set(key, { file, codecs });
  return codecs;
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
