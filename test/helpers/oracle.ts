import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerEntry } from '../../src/ingest-server/ledger.js';
import { round3 } from '../../src/seconds.js';
import { LOSS_LEDGER_FILE } from '../../src/spool/naming.js';
import { UNCAPTURED_REASONS } from '../../src/types.js';
import { type PtsRange, probePts } from './ffprobe.js';

/**
 * The independent oracle: what the camera streamed (its own frame log) against what the real
 * ingest stored (its ledger and files, measured with ffprobe), per relay run. The relay's own
 * events are never consulted; of its headers only two things are used, each for pairing only:
 * the run part of the Idempotency-Key groups segments of one relay run, and X-Segment-Start
 * says which run window a group belongs to. Everything counted in seconds comes from content.
 */

/** One RTSP client's session as the camera logged it. */
export interface CameraSession {
  client: string;
  /** The mount it played (`/stream`, `/stream-2` …), when the log says. */
  path?: string | undefined;
  /** Wall clock (ms) of its PLAY. */
  playAt: number;
  /** Wall clock (ms) its connection closed; undefined while it is still open. */
  closeAt: number | undefined;
  /** Distinct frames the camera pushed while it was playing. */
  frames: number;
  /** Seconds of video those frames are: frames × the camera's frame interval. */
  streamedS: number;
  firstFrameAt: number | undefined;
  lastFrameAt: number | undefined;
  /** Wall-clock stretches (ms) frames kept coming, each frame counted to the end of its interval. */
  spans: Array<[number, number]>;
}

interface LoggedFrame {
  at: number;
  pts: number;
  /** The mount whose media pushed it; '*' (or absent) for every mount of one shared media. */
  mount: string | undefined;
}

/** Parse the camera's frame log (test/helpers/rtsp-camera.py --frame-log). */
export function readCameraLog(path: string): CameraSession[] {
  const frames: LoggedFrame[] = [];
  const sessions = new Map<string, { playAt: number; closeAt: number | undefined; path?: string }>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [kind, a, b, c, d] = line.trim().split(' ');
    if (kind === 'F') frames.push({ at: Number(a) * 1000, pts: Number(b), mount: d });
    else if (kind === 'START' || kind === 'STOP') {
      // A camera process ended (or a new one began after a kill): its sessions ended with it.
      for (const session of sessions.values()) session.closeAt ??= Number(b) * 1000;
    } else if (kind === 'PLAY' && a)
      sessions.set(a, { playAt: Number(b) * 1000, closeAt: undefined, ...(c ? { path: c } : {}) });
    else if (kind === 'CLOSE' && a) {
      const session = sessions.get(a);
      if (session) session.closeAt = Number(b) * 1000;
    }
  }
  // Each mount's media has its own PTS timeline: the frame interval is measured within one.
  const firstMount = frames[0]?.mount;
  const frameS = medianStep(frames.filter((f) => f.mount === firstMount).map((f) => f.pts));
  return [...sessions].map(([client, { playAt, closeAt, path: mount }]) => {
    // A mount with an encoder of its own logs its own frames: only those were this session's.
    const ofMount = (f: LoggedFrame) => f.mount === undefined || f.mount === '*' || f.mount === mount;
    const seen = frames.filter(
      (f) => ofMount(f) && f.at >= playAt && (closeAt === undefined || f.at <= closeAt),
    );
    // A new media re-sends its preroll frame on PLAY: the same PTS twice is one frame.
    const distinct = new Set(seen.map((f) => f.pts)).size;
    // A pause of more than three frame intervals (a stalled camera) splits the stretches.
    const spans: Array<[number, number]> = [];
    for (const f of seen) {
      const last = spans.at(-1);
      if (last && f.at - last[1] <= 2 * frameS * 1000) last[1] = f.at + frameS * 1000;
      else spans.push([f.at, f.at + frameS * 1000]);
    }
    return {
      spans,
      client,
      path: mount,
      playAt,
      closeAt,
      frames: distinct,
      streamedS: distinct * frameS,
      firstFrameAt: seen[0]?.at,
      lastFrameAt: seen.at(-1)?.at,
    };
  });
}

/** One segment the ingest accepted, measured from its own bytes. */
export interface ReceivedSegment {
  /** Position among the accepted segments, in the order the ingest ledgered them. */
  arrival: number;
  file: string;
  idempotencyKey: string | null;
  /** The run part of the key (`<camera>:<run>:<sequence>`), or '?' without a key. */
  run: string;
  sequence: number | null;
  sha256: string | null;
  /** Null when the file holds no video frame. */
  pts: PtsRange | null;
  /** X-Segment-Start in ms (pairing only), null when absent or unreadable. */
  headerStartMs: number | null;
}

/** A stretch the relay said it lost: in an X-Segment-Gap header or its loss ledger. */
export interface DeclaredLoss {
  seqFrom: number;
  seqTo: number;
  startMs: number;
  endMs: number;
  reason: string;
}

/** What the ingest stored for one camera. */
export interface IngestRecord {
  segments: ReceivedSegment[];
  /** Ledger rows answered `duplicate`: a key already accepted (explained by idempotency). */
  keyDuplicates: number;
  /** Gaps announced in X-Segment-Gap headers of accepted segments. */
  announced: DeclaredLoss[];
}

/** Read `<outDir>/<camera>/ledger.jsonl` and probe every accepted segment, in ledger order. */
export async function readIngest(outDir: string, camera: string): Promise<IngestRecord> {
  const path = join(outDir, camera, 'ledger.jsonl');
  const rows = existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as LedgerEntry)
    : [];
  const segments: ReceivedSegment[] = [];
  const announced: DeclaredLoss[] = [];
  let keyDuplicates = 0;
  for (const row of rows) {
    if (row.event !== 'segment') continue;
    if (row.status === 'duplicate') keyDuplicates++;
    if (row.status !== 'accepted' || row.file === null) continue;
    const key = row.idempotency_key;
    const parts = key?.split(':') ?? [];
    const headerStartMs = row.start === null ? Number.NaN : Date.parse(row.start);
    segments.push({
      arrival: segments.length,
      file: row.file,
      idempotencyKey: key,
      run: parts.length >= 3 ? parts.at(-2)! : '?',
      sequence: row.sequence,
      sha256: row.sha256,
      pts: await probePts(join(outDir, camera, row.file)),
      headerStartMs: Number.isNaN(headerStartMs) ? null : headerStartMs,
    });
    if (Array.isArray(row.gap)) {
      for (const g of row.gap) {
        announced.push({
          seqFrom: g.seq_from,
          seqTo: g.seq_to,
          startMs: Date.parse(g.start),
          endMs: Date.parse(g.end),
          reason: g.reason,
        });
      }
    }
  }
  return { segments, keyDuplicates, announced };
}

/** The relay's loss ledger lines for one camera (`<spool>/trio-relay-losses.jsonl`, rotations too). */
export function readLossLedger(spoolRoot: string, camera: string): DeclaredLoss[] {
  const losses: DeclaredLoss[] = [];
  for (const name of [
    `${LOSS_LEDGER_FILE}.3`,
    `${LOSS_LEDGER_FILE}.2`,
    `${LOSS_LEDGER_FILE}.1`,
    LOSS_LEDGER_FILE,
  ]) {
    const path = join(spoolRoot, name);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const l = JSON.parse(line) as Record<string, unknown>;
      if (l.camera !== camera) continue;
      losses.push({
        seqFrom: Number(l.seqFrom),
        seqTo: Number(l.seqTo),
        startMs: Date.parse(String(l.start)),
        endMs: Date.parse(String(l.end)),
        reason: String(l.reason),
      });
    }
  }
  return losses;
}

/** When one relay process ran, as the test saw it (ms, wall clock). */
export interface RelayRunWindow {
  startedAt: number;
  endedAt: number;
  /** How it ended, for the report: 'SIGKILL', 'SIGTERM', … */
  label: string;
}

/** One relay run, accounted for. */
export interface RunAccount {
  label: string;
  /** Camera sessions (ffmpeg connections) whose PLAY fell in this run. */
  sessions: number;
  streamedS: number;
  /** Seconds of PTS timeline covered by the received segments of this run. */
  receivedS: number;
  /**
   * Seconds the relay declared for this run (headers and ledger, each stretch once): video it
   * captured and lost in this run, plus the part of each declared uncaptured hole (the relay or
   * its ffmpeg down) that falls while the camera was streaming to this run.
   */
  declaredS: number;
  /** Of declaredS, the uncaptured part. */
  uncapturedS: number;
  /** Holes inside each ffmpeg run's received PTS span, in seconds (already out of receivedS). */
  holesS: number;
  /** streamed − received − declared: what went missing without a word (negative: excess). */
  undeclaredS: number;
  /** The received video's frame interval (s): the unit of rounding between the two clocks. */
  frameS: number;
  /** PTS timelines (ffmpeg runs) among the received segments. */
  ffmpegRuns: number;
  /** Arrivals whose PTS went back within one ffmpeg run (order as received, never sorted). */
  outOfOrder: number;
  /** The same PTS range with the same bytes accepted twice (under different keys). */
  ptsDuplicates: number;
  segments: number;
}

export interface Accounting {
  runs: RunAccount[];
  /** Rows the ingest answered `duplicate` (same Idempotency-Key): harmless by contract. */
  keyDuplicates: number;
  /** Received segments no run window claims (their X-Segment-Start fits no run). */
  unattributed: ReceivedSegment[];
  /** Segments with no video frame at all. */
  empty: ReceivedSegment[];
  /** Every declared hole of time never captured (relay or ffmpeg down), each stretch once. */
  uncaptured: DeclaredLoss[];
}

const UNCAPTURED: ReadonlySet<string> = new Set(UNCAPTURED_REASONS);

/** Seconds of [from, to] (ms) that the intervals cover. */
function overlapS(from: number, to: number, intervals: Array<[number, number]>): number {
  return sum(intervals.map(([a, b]) => Math.max(0, Math.min(b, to) - Math.max(a, from)))) / 1000;
}

/** Slack around a run window when pairing by wall clock: the relay's clock is the test's. */
const PAIR_SLACK_MS = 1500;

/**
 * Account for every relay run: the camera sessions played during it against the received
 * segments of the key-run group paired with it, minus what was declared lost in it.
 */
export function account(input: {
  camera: CameraSession[];
  ingest: IngestRecord;
  runs: RelayRunWindow[];
  /** Loss-ledger lines; X-Segment-Gap headers come with the ingest record. */
  ledger?: DeclaredLoss[];
}): Accounting {
  const { camera, ingest, runs } = input;
  const inRun = (ms: number, r: RelayRunWindow, slack: number) =>
    ms >= r.startedAt - slack && ms <= r.endedAt + slack;
  // The window that holds the moment, else the one that nearly does (a clock a little off).
  const windowOf = (ms: number) => {
    const exact = runs.findIndex((r) => inRun(ms, r, 0));
    return exact >= 0 ? exact : runs.findIndex((r) => inRun(ms, r, PAIR_SLACK_MS));
  };

  // Group by key run, then pair each group with the window most of its segments started in.
  const groups = new Map<string, ReceivedSegment[]>();
  for (const s of ingest.segments) {
    if (!s.pts) continue;
    groups.set(s.run, [...(groups.get(s.run) ?? []), s]);
  }
  const byWindow = runs.map(() => [] as ReceivedSegment[]);
  const unattributed: ReceivedSegment[] = [];
  for (const group of groups.values()) {
    const votes = new Map<number, number>();
    for (const s of group) {
      const w = s.headerStartMs === null ? -1 : windowOf(s.headerStartMs);
      votes.set(w, (votes.get(w) ?? 0) + 1);
    }
    const [best] = [...votes].filter(([w]) => w >= 0).sort((a, b) => b[1] - a[1]);
    if (best) byWindow[best[0]]!.push(...group);
    else unattributed.push(...group);
  }

  // One stretch may be both announced and ledgered: count it once.
  const declared = new Map<string, DeclaredLoss>();
  for (const d of [...ingest.announced, ...(input.ledger ?? [])])
    declared.set(`${d.seqFrom}-${d.seqTo}-${d.reason}`, d);

  const uncaptured = [...declared.values()].filter((d) => UNCAPTURED.has(d.reason));
  const lost = [...declared.values()].filter((d) => !UNCAPTURED.has(d.reason));

  const accounts = runs.map((run, w): RunAccount => {
    const sessions = camera.filter((s) => s.playAt >= run.startedAt && s.playAt <= run.endedAt);
    const streamedS = sum(sessions.map((s) => s.streamedS));
    const timeline = timelines(byWindow[w]!.sort((a, b) => a.arrival - b.arrival));
    // The ledger has a line per segment where a header merges a run of them: count time once.
    const lostS = unionS(
      lost.filter((d) => windowOf(d.startMs) === w).map((d): [number, number] => [d.startMs, d.endMs]),
    );
    // What the camera streamed to this run, frame by frame in wall time: an uncaptured hole
    // counts here only where it overlaps it (the tail a kill cut off, the start of a session).
    const streaming = sessions.flatMap((s) => s.spans);
    const uncapturedS = sum(uncaptured.map((d) => overlapS(d.startMs, d.endMs, streaming)));
    const declaredS = lostS + uncapturedS;
    const receivedS = sum(timeline.runs.map((r) => r.coveredS));
    return {
      label: run.label,
      sessions: sessions.length,
      streamedS: round3(streamedS),
      receivedS: round3(receivedS),
      declaredS: round3(declaredS),
      uncapturedS: round3(uncapturedS),
      holesS: round3(sum(timeline.runs.map((r) => r.holesS))),
      undeclaredS: round3(streamedS - receivedS - declaredS),
      frameS: round3(timeline.frameS),
      ffmpegRuns: timeline.runs.length,
      outOfOrder: timeline.outOfOrder,
      ptsDuplicates: timeline.ptsDuplicates,
      segments: byWindow[w]!.length,
    };
  });
  return {
    runs: accounts,
    keyDuplicates: ingest.keyDuplicates,
    unattributed,
    empty: ingest.segments.filter((s) => !s.pts),
    uncaptured,
  };
}

interface Timeline {
  intervals: Array<[number, number]>;
  firstStartS: number;
  lastEndS: number;
  frameS: number;
}

/**
 * Split one relay run's segments, in arrival order, into PTS timelines. Within an ffmpeg run PTS
 * only grows (the relay never resets timestamps); a segment starting back at the timeline's
 * beginning is a new ffmpeg run; any other step back is out of order. The same bytes over the
 * same range again is a duplicate (a new ffmpeg run's first segment has the range, not the bytes).
 */
function timelines(segments: ReceivedSegment[]) {
  const frameS = medianOf(segments.map((s) => s.pts!.frameS).filter((f) => f > 0)) || 0.2;
  const runs: Timeline[] = [];
  let outOfOrder = 0;
  let ptsDuplicates = 0;
  const seen = new Set<string>();
  for (const s of segments) {
    const start = s.pts!.startS;
    const end = s.pts!.frameS > 0 ? s.pts!.endS : start + frameS;
    // The same bytes under another key: ffmpeg never writes one stretch twice, the relay sent it twice.
    const bytes = `${s.sha256}@${start.toFixed(3)}-${end.toFixed(3)}`;
    if (s.sha256 !== null && seen.has(bytes)) {
      ptsDuplicates++;
      continue;
    }
    seen.add(bytes);
    const current = runs.at(-1);
    if (!current || start < current.firstStartS + frameS / 2) {
      runs.push({ intervals: [[start, end]], firstStartS: start, lastEndS: end, frameS });
      continue;
    }
    if (start < current.lastEndS - frameS / 2) outOfOrder++;
    current.intervals.push([start, end]);
    current.lastEndS = Math.max(current.lastEndS, end);
  }
  return {
    frameS,
    outOfOrder,
    ptsDuplicates,
    runs: runs.map((t) => {
      // Sorted here only to measure coverage; order was judged above, as received.
      const merged = mergeIntervals(t.intervals, t.frameS);
      const coveredS = sum(merged.map(([a, b]) => b - a));
      return { coveredS, holesS: t.lastEndS - t.firstStartS - coveredS };
    }),
  };
}

/** Union of intervals; touching ones (within half a frame) merge. */
function mergeIntervals(intervals: Array<[number, number]>, frameS: number): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = merged.at(-1);
    if (last && a <= last[1] + frameS / 2) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/** Seconds covered by the union of [startMs, endMs] intervals. */
function unionS(intervals: Array<[number, number]>): number {
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total / 1000;
}

/** A one-line summary per run, for console.log in tests. */
export function formatAccounting(accounting: Accounting): string {
  return accounting.runs
    .map(
      (r, i) =>
        `run ${i + 1} (${r.label}): streamed ${r.streamedS.toFixed(2)} s, received ${r.receivedS.toFixed(2)} s ` +
        `in ${r.segments} segment(s)/${r.ffmpegRuns} timeline(s), declared ${r.declaredS.toFixed(2)} s ` +
        `(uncaptured ${r.uncapturedS.toFixed(2)} s), ` +
        `undeclared ${r.undeclaredS.toFixed(2)} s (holes ${r.holesS.toFixed(2)} s, out of order ${r.outOfOrder}, ` +
        `pts duplicates ${r.ptsDuplicates})`,
    )
    .concat(
      accounting.uncaptured.map(
        (d) =>
          `declared hole ${d.reason}: ${((d.endMs - d.startMs) / 1000).toFixed(2)} s from ${new Date(d.startMs).toISOString()}`,
      ),
    )
    .join('\n');
}

function medianStep(values: number[]): number {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  return medianOf(distinct.slice(1).map((v, i) => v - distinct[i]!));
}

function medianOf(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * The camera's sessions that began at or after `since`, once every one of them has closed (the
 * camera logs CLOSE a moment after the client's socket goes). The log is written by another
 * process with no event to wait on, so this re-reads it every 50 ms, for at most `timeoutMs`.
 */
export async function settledSessions(
  log: string,
  since: number,
  timeoutMs = 5000,
): Promise<CameraSession[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sessions = readCameraLog(log).filter((s) => s.playAt >= since);
    if (sessions.every((s) => s.closeAt !== undefined)) return sessions;
    if (Date.now() > deadline) throw new Error(`camera sessions still open: ${JSON.stringify(sessions)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
