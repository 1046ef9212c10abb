import { createHash, timingSafeEqual } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { isValidCameraId } from '../camera/camera-id.js';
import { writeFileAtomic } from '../spool/fsutil.js';
import { paddedSequence } from '../spool/naming.js';
import { drain, firstChunk, readSmallBody, receiveBody, type Throttle } from './body.js';
import type { CameraLimit } from './camera-limit.js';
import type { Catalog } from './catalog.js';
import type { Route, ServedRequest } from './events.js';
import type { FaultAction, FaultInjector } from './faults.js';
import { appendLedger, type LedgerEntry, newEntry } from './ledger.js';
import type { NormalizedOptions } from './options.js';
import { MAX_REGISTER_BYTES, readRegistration } from './registration.js';
import { readSegmentHeaders, type SegmentHeaders } from './segment-headers.js';
import type { SegmentStore } from './store.js';
import { cameraDir } from './store-dir.js';
import { handleViewer, isViewerRequest, type ViewerContext } from './viewer/routes.js';

/** What the handlers need from the server: settings, state, and one way to report. */
export interface RouteContext {
  readonly options: NormalizedOptions;
  readonly faults: FaultInjector;
  readonly catalog: Catalog;
  /** The cameras it keeps state for, capped (--max-cameras). */
  readonly cameras: CameraLimit;
  /** The stored segments: indexed as they are accepted, rotated under the store limit. */
  readonly store: SegmentStore;
  readonly viewer: ViewerContext;
  /** The read-rate limit on segment bodies, when one is set. */
  readonly throttle?: Throttle | undefined;
  /** Count, log and announce an outcome; called before the answer goes out. */
  record(outcome: ServedRequest): void;
}

const INGEST_PATH = /^\/api\/stream\/ingest\/([^/]+)$/;
// Camera ids follow the relay's own `--camera-id` rule (isValidCameraId): safe folder names, no `..`.

type Base = Pick<ServedRequest, 'route' | 'method' | 'path' | 'camera'>;

/** Route one request of the cloud contract: register, ingest a segment, end the session. */
export async function handleRequest(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const ingest = INGEST_PATH.exec(path);
  const route: Route =
    path === '/api/cameras' && method === 'POST'
      ? 'register'
      : ingest && method === 'POST'
        ? 'ingest'
        : ingest && method === 'DELETE'
          ? 'session_end'
          : 'other';
  const camera = ingest ? cameraFromPath(ingest[1]!) : null;
  const base: Base = { route, method, path, camera };

  // The page, its assets and data: not part of the contract, so neither counted nor logged.
  if (isViewerRequest(method, path)) return handleViewer(ctx.viewer, req, res, path);
  // A client that stops sending its body for this long is dropped (a slow-body attack).
  if (method === 'POST') req.setTimeout(ctx.options.bodyTimeoutMs);
  if (!authorized(ctx.options.token, req.headers['x-api-key'])) {
    ctx.record(outcome(base, 401, 'unauthorized'));
    return send(res, 401, { error: 'invalid api key' });
  }
  // A relay's probe (HEAD on an ingest path) meets the faults a segment would: a faulted ingest
  // answers nothing else either. Unfaulted, it is a 404 as before.
  if (ingest && method === 'HEAD' && camera !== null) {
    const action = ctx.faults.next(camera);
    if (action.kind !== 'pass') return probeFault(ctx, req, res, base, action);
  }
  if (route === 'other') {
    ctx.record(outcome(base, 404, 'not_found'));
    return send(res, 404, { error: 'not found' });
  }
  if (route === 'register') return register(ctx, req, res, base);
  if (camera === null) {
    ctx.record(outcome(base, 400, 'rejected'));
    return send(res, 400, { error: 'invalid camera id' });
  }
  if (!ctx.cameras.admit(camera)) return tooManyCameras(ctx, res, base);
  await cameraDir(ctx.options.outDir, camera);
  if (route === 'session_end') return endSession(ctx, res, { ...base, camera });
  return ingestSegment(ctx, req, res, { ...base, camera });
}

async function register(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  base: Base,
): Promise<void> {
  const reject = (status: number, error: string) => {
    ctx.record(outcome(base, status, 'rejected'));
    send(res, status, { error });
  };
  const text = await readSmallBody(req, MAX_REGISTER_BYTES);
  if (text === undefined) return reject(413, `registration body over ${MAX_REGISTER_BYTES} bytes`);
  // Judged whole before anything is created: a refused registration leaves no camera dir.
  const registration = readRegistration(text, isValidCameraId);
  if (!registration.ok) return reject(registration.status, registration.error);
  const { id, json } = registration;
  if (!ctx.cameras.admit(id)) return tooManyCameras(ctx, res, { ...base, camera: id });
  const dir = await cameraDir(ctx.options.outDir, id);
  await ctx.catalog.exclusive(id, async () => {
    // Written aside (a fresh name, never through a link) then renamed: no half camera.json.
    await writeFileAtomic(join(dir, 'camera.json'), json);
    const entry = newEntry(id, 'register', 'accepted', 201, {
      file: 'camera.json',
      size: Buffer.byteLength(json),
    });
    await appendLedger(ctx.options.outDir, entry);
    ctx.record(outcome({ ...base, camera: id }, 201, 'accepted', entry));
  });
  send(res, 201, { id });
}

/**
 * 507, a 5xx: the relay keeps its segments and retries, so nothing is lost while the operator
 * raises --max-cameras (or removes cameras from --out and restarts the ingest).
 */
function tooManyCameras(ctx: RouteContext, res: ServerResponse, base: Base): void {
  ctx.record(outcome(base, 507, 'rejected'));
  send(res, 507, { error: `camera limit reached (--max-cameras ${ctx.cameras.max})` });
}

async function endSession(
  ctx: RouteContext,
  res: ServerResponse,
  base: Base & { camera: string },
): Promise<void> {
  await ctx.catalog.exclusive(base.camera, async () => {
    const entry = newEntry(base.camera, 'session_end', 'accepted', 204);
    await appendLedger(ctx.options.outDir, entry);
    ctx.record(outcome(base, 204, 'accepted', entry));
  });
  send(res, 204);
}

async function ingestSegment(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  base: Base & { camera: string },
): Promise<void> {
  const { outDir, maxBodyBytes, maxStoreBytes } = ctx.options;
  const { camera } = base;
  const headers = readSegmentHeaders(req.headers);
  const action = ctx.faults.next(camera);
  if (action.kind !== 'pass') return injectFault(ctx, req, res, base, headers, action);

  const ledger = (status: LedgerEntry['status'], http: number, fields: Partial<LedgerEntry> = {}) =>
    ctx.catalog.exclusive(camera, async () => {
      const entry = newEntry(camera, 'segment', status, http, { ...headers, ...fields });
      await appendLedger(outDir, entry);
      ctx.record(outcome(base, http, status, entry));
      return entry;
    });
  const reject = async (status: number, error: string, size = 0, close = false) => {
    await ledger('rejected', status, { size });
    send(res, status, { error }, close ? { connection: 'close' } : {});
  };

  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'video/mp2t') return reject(415, 'expected Content-Type: video/mp2t');
  // A segment larger than the whole store could only be acknowledged and deleted at once, and
  // the relay deletes its copy on a 2xx: refused instead (413, which the relay files as rejected).
  const overStore = maxStoreBytes !== undefined && maxStoreBytes < maxBodyBytes;
  const limit = overStore ? maxStoreBytes : maxBodyBytes;
  const tooLarge = overStore
    ? `segment over the store limit of ${maxStoreBytes} bytes (--max-store-mb)`
    : `segment over ${maxBodyBytes} bytes`;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  // Refuse before reading a byte; `connection: close` spares us reading what we refused.
  if (declared > limit) return reject(413, tooLarge, declared, true);

  const dir = join(outDir, camera);
  const body = await receiveBody(req, dir, limit, ctx.throttle, ctx.options.checkContent);
  if (body.kind === 'aborted') {
    await ledger('rejected', 0, { size: body.size });
    return;
  }
  if (body.kind === 'too_large') return reject(413, tooLarge, body.size, true);
  // 422, a 4xx the relay classifies as "reject": it keeps the segment in its rejected/ folder.
  if (body.kind === 'not_ts')
    return reject(422, 'not MPEG-TS: expected a 0x47 sync byte every 188 bytes', body.size, true);
  if (body.size === 0) {
    await rm(body.temp, { force: true });
    return reject(400, 'empty segment');
  }
  const stored = { size: body.size, sha256: body.sha256, first_pts: body.firstPtsS };
  let release = () => {};
  await ctx.catalog.exclusive(camera, async () => {
    // Decided inside the camera's exclusive section: two retries of one key never both land.
    const duplicate = ctx.catalog.has(camera, headers.idempotency_key);
    let entry: LedgerEntry;
    if (duplicate) {
      await rm(body.temp, { force: true });
      entry = newEntry(camera, 'segment', 'duplicate', 204, { ...headers, ...stored });
    } else {
      const file = segmentFileName(headers, ctx.catalog.arrivals(camera), body.sha256);
      await rename(body.temp, join(dir, file));
      entry = newEntry(camera, 'segment', 'accepted', 204, { ...headers, ...stored, file });
    }
    await appendLedger(outDir, entry).catch(async (error: unknown) => {
      // Not ledgered, not answered 2xx: the client retries, and this file must not linger unnamed.
      if (entry.file !== null) await rm(join(dir, entry.file), { force: true });
      throw error;
    });
    // Only a ledgered segment counts as seen: if the append failed, the client's retry lands.
    if (!duplicate) {
      ctx.catalog.add(entry);
      release = ctx.store.add(entry);
    }
    ctx.record(outcome(base, 204, entry.status, entry));
  });
  // Answered once the older segments are rotated out, this one kept whatever else goes: it is held
  // until its answer is out, so no other request's rotation takes it first. (Segments arriving
  // together may leave the store over its limit until the next one arrives.)
  try {
    await ctx.store.rotate();
    send(res, 204);
  } finally {
    release();
  }
}

async function injectFault(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  base: Base & { camera: string },
  headers: SegmentHeaders,
  action: Exclude<FaultAction, { kind: 'pass' }>,
): Promise<void> {
  // Status faults read the body like a real server would; hangs read it and never answer;
  // resets wait for the first bytes. Recorded before the client sees anything, like the rest.
  const size = action.kind === 'reset' ? await firstChunk(req) : await drain(req, ctx.throttle);
  req.setTimeout(0); // a hang holds its socket until down() or close(), however long
  const http = action.kind === 'status' ? action.status : 0;
  await ctx.catalog.exclusive(base.camera, async () => {
    const entry = newEntry(base.camera, 'segment', 'fault', http, { ...headers, size });
    await appendLedger(ctx.options.outDir, entry);
    ctx.record({ ...outcome(base, http, 'fault', entry), fault: action.kind });
  });
  if (action.kind === 'reset') req.socket.destroy();
  if (action.kind !== 'status') return; // hang: the socket stays open until down() or close()
  const retry: Record<string, string> =
    action.retryAfterS === undefined ? {} : { 'retry-after': String(action.retryAfterS) };
  const error = action.status === 401 ? 'invalid api key' : `injected fault ${action.status}`;
  send(res, action.status, { error }, retry);
}

/** A faulted probe: counted and logged like any fault, no ledger row (it carries no segment). */
function probeFault(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  base: Base,
  action: Exclude<FaultAction, { kind: 'pass' }>,
): void {
  ctx.record({ ...outcome(base, action.kind === 'status' ? action.status : 0, 'fault'), fault: action.kind });
  if (action.kind === 'reset') req.socket.destroy();
  if (action.kind !== 'status') return; // hang: the socket stays open until down() or close()
  const retry: Record<string, string> =
    action.retryAfterS === undefined ? {} : { 'retry-after': String(action.retryAfterS) };
  send(res, action.status, { error: `injected fault ${action.status}` }, retry);
}

/**
 * `<sequence>-<tag>.ts` with the sequence zero-padded to 9 digits, else `a<arrival>-<tag>.ts`
 * (the camera's arrival count); the tag is a short hash of the Idempotency-Key (else of the
 * content), so two different segments claiming one sequence do not overwrite each other.
 */
export function segmentFileName(headers: SegmentHeaders, arrival: number, sha256: string): string {
  const tag = createHash('sha256')
    .update(headers.idempotency_key ?? sha256)
    .digest('hex')
    .slice(0, 8);
  const order = headers.sequence === null ? `a${paddedSequence(arrival)}` : paddedSequence(headers.sequence);
  return `${order}-${tag}.ts`;
}

function outcome(
  base: Base,
  httpStatus: number,
  result: ServedRequest['outcome'],
  entry: LedgerEntry | null = null,
): ServedRequest {
  return { ...base, httpStatus, outcome: result, fault: null, entry };
}

function cameraFromPath(segment: string): string | null {
  try {
    const id = decodeURIComponent(segment);
    return isValidCameraId(id) ? id : null;
  } catch {
    return null; // malformed %-escape
  }
}

/** Constant-time compare of digests, so neither the key's bytes nor its length leak. */
export function authorized(token: string | undefined, given: string | string[] | undefined): boolean {
  if (token === undefined) return true;
  const value = Array.isArray(given) ? given[0] : given;
  if (value === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(token), digest(value));
}

function send(
  res: ServerResponse,
  status: number,
  body?: object,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  // Answered before the body was read (401, 404, 413, 415…): the connection is closed once the
  // answer is out (Node destroys it after a `connection: close` response), not held open to a
  // body that may trickle in for as long as the client likes.
  if (!res.req.complete) headers = { ...headers, connection: 'close' };
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const json = JSON.stringify(body);
  res
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(json)),
    })
    .end(json);
}
