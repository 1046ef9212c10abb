import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SegmentStore } from '../store.js';
import { READ_NOFOLLOW } from '../store-dir.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './assets.js';
import type { ViewerHistory } from './history.js';
import { renderPlaylist } from './playlist.js';
import { buildTimeline } from './timeline.js';

/** What the viewer reads: the stored segments and the ledger's history, never the contract's state. */
export interface ViewerContext {
  readonly outDir: string;
  readonly store: SegmentStore;
  readonly history: ViewerHistory;
  /** Whether the request carries the API key (always true when there is none). */
  authorized(req: IncomingMessage): boolean;
}

/** hls.js from the installed package, never a CDN: the page works offline. */
const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.light.min.js');
/** Ledger rows each camera shows. */
const SHOWN_ROWS = 20;
const CAMERA_PATH = /^\/viewer\/cameras\/([^/]+)\/([^/]+)$/;
/** The names routes.ts gives segment files: nothing else under the camera's folder is served. */
const SEGMENT_FILE = /^a?\d{9}-[0-9a-f]{8}\.ts$/;

const STATIC: ReadonlyMap<string, { type: string; body: string }> = new Map([
  ['/', { type: 'text/html; charset=utf-8', body: PAGE_HTML }],
  ['/viewer/style.css', { type: 'text/css; charset=utf-8', body: PAGE_CSS }],
  ['/viewer/app.js', { type: 'text/javascript; charset=utf-8', body: PAGE_JS }],
]);

/** Whether a request is the viewer's (GET or HEAD of the page, its assets and its data). */
export function isViewerRequest(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/' || path.startsWith('/viewer/'));
}

/**
 * Serve the viewer: the page and its scripts to anyone (they hold nothing), the cameras'
 * data, playlists and segments only with the API key when there is one.
 */
export async function handleViewer(
  ctx: ViewerContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const asset = STATIC.get(path);
  if (asset) return sendText(res, 200, asset.type, asset.body, 'no-cache');
  if (path === '/viewer/hls.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
    if (req.method === 'HEAD') return void res.end();
    return pipeline(createReadStream(HLS_JS), res);
  }
  if (!ctx.authorized(req)) return sendText(res, 401, 'application/json', '{"error":"invalid api key"}');
  if (path === '/viewer/api/cameras') {
    const page = readPage(req.url ?? '');
    if (typeof page === 'string')
      return sendText(res, 400, 'application/json', JSON.stringify({ error: page }));
    return sendText(res, 200, 'application/json', JSON.stringify(await cameraList(ctx, page)), 'no-store');
  }
  const match = CAMERA_PATH.exec(path);
  const camera = match ? safeDecode(match[1]!) : undefined;
  if (!match || camera === undefined) return notFound(res);
  const name = match[2]!;
  if (name === 'playlist.m3u8' || name === 'archive.m3u8') {
    const kind = name === 'archive.m3u8' ? 'vod' : 'live';
    const playlist = renderPlaylist(ctx.store.window(camera), (file) => file, kind);
    return sendText(res, 200, 'application/vnd.apple.mpegurl', playlist, 'no-store');
  }
  if (!SEGMENT_FILE.test(name) || !ctx.store.has(camera, name)) return notFound(res);
  // Never through a symlink; rotated away between the check and the open: a 404, not a 500.
  const handle = await open(join(ctx.outDir, camera, name), READ_NOFOLLOW).catch(() => undefined);
  if (!handle) return notFound(res);
  const stream = handle.createReadStream();
  res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=86400' });
  if (req.method === 'HEAD') {
    stream.destroy();
    return void res.end();
  }
  await pipeline(stream, res).catch(() => {}); // the player went away midway
}

/** Cameras per page of /viewer/api/cameras when no `limit` is given, and the most one may ask. */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

interface Page {
  readonly offset: number;
  readonly limit: number;
}

/** `?offset=&limit=` of the camera list, or why not (a 400). */
function readPage(url: string): Page | string {
  const query = new URLSearchParams(url.split('?')[1] ?? '');
  const count = (name: string, fallback: number, min: number, max: number): number | string => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    return n >= min && n <= max ? n : `${name} must be a whole number from ${min} to ${max}`;
  };
  const offset = count('offset', 0, 0, 999_999_999);
  const limit = count('limit', DEFAULT_PAGE, 1, MAX_PAGE);
  if (typeof offset === 'string') return offset;
  if (typeof limit === 'string') return limit;
  return { offset, limit };
}

/**
 * One page of the cameras the ingest knows (in order of first appearance), newest data first in
 * each list, and how many there are in all: what /viewer/api/cameras answers. Paged, so the
 * answer stays small however many cameras there are (the page polls it every 2 s).
 */
async function cameraList(ctx: ViewerContext, { offset, limit }: Page) {
  const cameras = await ctx.history.cameras(ctx.outDir, offset, limit);
  return {
    total: ctx.history.size,
    offset,
    limit,
    cameras: cameras.map((camera) => {
      const window = ctx.store.window(camera.id);
      const received = window.segments.flatMap((s) => (s.sequence === null ? [] : [s.sequence]));
      return {
        id: camera.id,
        name: camera.name,
        registeredAt: camera.registeredAt,
        lastSeen: camera.lastSeen,
        counts: camera.counts,
        segments: window.segments.length,
        bytes: window.segments.reduce((sum, s) => sum + s.size, 0),
        playlist: `/viewer/cameras/${encodeURIComponent(camera.id)}/playlist.m3u8`,
        timeline: buildTimeline(received, camera.gaps, camera.duplicates),
        recent: camera.recent.slice(-SHOWN_ROWS),
      };
    }),
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function notFound(res: ServerResponse): void {
  sendText(res, 404, 'application/json', '{"error":"not found"}');
}

function sendText(res: ServerResponse, status: number, type: string, body: string, cache?: string): void {
  res
    .writeHead(status, {
      'content-type': type,
      'content-length': String(Buffer.byteLength(body)),
      ...(cache ? { 'cache-control': cache } : {}),
    })
    .end(res.req.method === 'HEAD' ? undefined : body);
}
