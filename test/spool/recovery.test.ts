import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { locateFfmpeg } from '../../src/camera/ffmpeg-locate.js';
import { ffmpegProber } from '../../src/camera/probe-segment.js';
import { adoptOrphans } from '../../src/spool/adoption.js';
import { type JournalData, readJournal, type SegmentRecord } from '../../src/spool/journal.js';
import { CameraLock } from '../../src/spool/lock.js';
import { LOSS_LEDGER_FILE, segmentName } from '../../src/spool/naming.js';
import { procStartTime } from '../../src/spool/owner.js';
import { Spool } from '../../src/spool/spool.js';
import { sweepStaleSpools } from '../../src/spool/stale-sweep.js';
import { type Emit, EventBus, type StampedEvent } from '../../src/telemetry/events.js';

let sample: Buffer;
let prober: ReturnType<typeof ffmpegProber>;
let sleeper: ReturnType<typeof spawn>;
const deadPid = spawnSync('true').pid!;

beforeAll(async () => {
  const ffmpeg = await locateFfmpeg(undefined);
  prober = ffmpegProber(ffmpeg.path);
  const out = join(mkdtempSync(join(tmpdir(), 'recovery-sample-')), 'sample.ts');
  execFileSync(ffmpeg.path, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '2'],
    ...['-c:v', 'libx264', '-g', '10', '-f', 'mpegts', out],
  ]);
  sample = readFileSync(out);
  sleeper = spawn('sleep', ['60']);
});
afterAll(() => {
  sleeper.kill();
});

function record(camera: string, run: string, sequence: number, bytes: number): SegmentRecord {
  return {
    name: segmentName(sequence),
    sequence,
    start: new Date(Date.UTC(2026, 10, 22, 10, 0, sequence * 2)).toISOString(),
    durationS: 2,
    bytes,
    idempotencyKey: `${camera}:${run}:${sequence}`,
  };
}

/** An orphan spool dir as a killed relay leaves it: named after its camera, journal as JSON lines. */
function orphan(
  root: string,
  camera: string,
  sequences: number[],
  owner: { pid: number; procStart?: string | undefined; ffmpegPid?: number | undefined },
  suffix: string,
  journal = true,
) {
  const dir = orphanDir(root, camera, suffix);
  mkdirSync(dir, { mode: 0o700 });
  for (const s of sequences) writeFileSync(join(dir, segmentName(s)), sample);
  if (journal) {
    const state: JournalData = {
      version: 2,
      cameraId: camera,
      runId: `run${suffix}`,
      owner: { ...owner, host: hostname(), startedAt: '2026-11-22T10:00:00.000Z' },
      nextSequence: Math.max(-1, ...sequences) + 1,
      segments: sequences.map((s) => record(camera, `run${suffix}`, s, sample.length)),
      gaps: [],
    };
    writeFileSync(join(dir, 'journal.jsonl'), `${JSON.stringify({ op: 'head', state })}\n`);
  }
  return dir;
}

function orphanDir(root: string, camera: string, suffix: string): string {
  return join(root, `trio-relay-segments-${camera}~-1-${suffix}`);
}

/** Make a dir look untouched for two hours (past a --stale-after of 1 min or 1 h). */
function age(dir: string): void {
  const past = new Date(Date.now() - 7_200_000);
  if (existsSync(join(dir, 'journal.jsonl'))) utimesSync(join(dir, 'journal.jsonl'), past, past);
  utimesSync(dir, past, past);
}

const locks: CameraLock[] = [];
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
});

/** The process's stale sweep, then this camera's adoption, as a relay of one camera starts. */
async function recover(spool: Spool, staleAfterMs: number, emit: Emit, probe = prober) {
  const { cameraId, root } = spool;
  const swept = await sweepStaleSpools([{ root, cameraId, staleAfterMs }], emit);
  const adopted = await adoptOrphans({ spool, staleAfterMs, prober: probe, emit });
  return { ...swept, adopted };
}

/** As the relay starts: the camera's lock, a new spool, then the sweep. */
async function start(root: string, staleAfterMs = 3_600_000, probe = prober, cameraId = 'cam-a') {
  const events: StampedEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const emit = bus.forCamera(cameraId);
  locks.push(await CameraLock.acquire(root, cameraId));
  const spool = await Spool.create({ root, cameraId, maxBytes: 1e9, emit });
  const report = await recover(spool, staleAfterMs, emit, probe);
  return { spool, report, events };
}

function ledger(root: string): Array<Record<string, unknown>> {
  if (!existsSync(join(root, LOSS_LEDGER_FILE))) return [];
  return readFileSync(join(root, LOSS_LEDGER_FILE), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function orphanV2(root: string, camera: string, sequences: number[], suffix: string, journal = true) {
  return orphan(root, camera, sequences, { pid: deadPid }, suffix, journal);
}

describe('startup sweep and recovery', () => {
  it('adopts a dead run of this camera: oldest first, original sequence, start and key', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const old = orphan(root, 'cam-a', [3, 4, 5], { pid: deadPid }, 'aaaa');
    const { spool, report } = await start(root);
    expect(report.adopted.map((r) => r.sequence)).toEqual([3, 4, 5]);
    expect(report.adopted[0]).toEqual(record('cam-a', 'runaaaa', 3, sample.length));
    expect(existsSync(old)).toBe(false);
    expect(readdirSync(spool.dir).sort()).toEqual(['journal.jsonl', ...[3, 4, 5].map(segmentName)]);
    expect(spool.nextSequence).toBe(6);
    const journal = (await readJournal(spool.dir))!;
    expect(journal.segments.map((s) => s.idempotencyKey)).toEqual([
      'cam-a:runaaaa:3',
      'cam-a:runaaaa:4',
      'cam-a:runaaaa:5',
    ]);
  });

  it('salvages a truncated partial segment; one with bytes but no video is a declared loss', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const dir = orphan(root, 'cam-a', [0], { pid: deadPid }, 'bbbb');
    writeFileSync(join(dir, segmentName(1)), sample.subarray(0, Math.floor(sample.length / 2) + 100));
    writeFileSync(join(dir, segmentName(2)), Buffer.alloc(1000, 0));
    const { report, events, spool } = await start(root);
    expect(report.adopted.map((r) => r.sequence)).toEqual([0, 1]);
    const salvaged = report.adopted[1]!;
    expect(salvaged.bytes % 188).toBe(0);
    expect(salvaged.start).toBe('2026-11-22T10:00:02.000Z'); // right after segment 0
    expect(salvaged.idempotencyKey).toBe('cam-a:runbbbb:1');
    expect(statSync(join(spool.dir, segmentName(1))).size).toBe(salvaged.bytes);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'segment', phase: 'evicted', sequence: 2, reason: 'unsalvageable' }),
    );
    expect(ledger(root)).toEqual([
      expect.objectContaining({ camera: 'cam-a', seqFrom: 2, seqTo: 2, reason: 'unsalvageable' }),
    ]);
    expect(spool.gaps()).toEqual([expect.objectContaining({ seqFrom: 2, reason: 'unsalvageable' })]);
    expect(spool.nextSequence).toBe(3);
  });

  it('a partial segment that cannot be probed is kept and delivered, never taken for "no video"', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const dir = orphan(root, 'cam-a', [0], { pid: deadPid }, 'bbb2');
    writeFileSync(join(dir, segmentName(1)), sample.subarray(0, 188 * 20));
    const failing = () => Promise.reject(new Error('probe timed out'));
    const { report, spool } = await start(root, 3_600_000, failing);
    expect(report.adopted.map((r) => r.sequence)).toEqual([0, 1]);
    expect(statSync(join(spool.dir, segmentName(1))).size).toBe(188 * 20);
    expect(ledger(root)).toEqual([]);
  });

  it('a dir of this camera without a journal (disk full at its start) is recovered from its files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const dir = orphanV2(root, 'cam-a', [4, 5], 'nojr', false);
    const { report, spool } = await start(root);
    expect(report.adopted.map((r) => r.sequence)).toEqual([4, 5]);
    expect(existsSync(dir)).toBe(false);
    expect(spool.nextSequence).toBe(6);
    expect(ledger(root)).toEqual([]);
  });

  it('two dead runs that numbered from the same point are both adopted whole: none overwrites the other', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    orphanV2(root, 'cam-a', [7, 8], 'run1');
    const second = orphanV2(root, 'cam-a', [7, 8], 'run2');
    writeFileSync(join(second, segmentName(8)), Buffer.concat([sample, sample]));
    const { report, spool } = await start(root);
    expect(report.adopted).toHaveLength(4);
    expect(new Set(report.adopted.map((r) => r.idempotencyKey)).size).toBe(4);
    const sizes = report.adopted.map((r) => statSync(spool.pathOf(r)).size).sort((a, b) => a - b);
    expect(sizes).toEqual([sample.length, sample.length, sample.length, 2 * sample.length]);
    expect(ledger(root)).toEqual([]);
  });

  it("leaves a live relay's dir alone, even past --stale-after: its camera's lock is held", async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const live = { pid: sleeper.pid!, procStart: procStartTime(sleeper.pid!) };
    const theirs = orphan(root, 'cam-b', [1], live, 'dddd');
    age(theirs);
    locks.push(await CameraLock.acquire(root, 'cam-b'));
    const { report } = await start(root, 60_000);
    expect(report.adopted).toEqual([]);
    expect(report.removedStale).toBe(0);
    expect(existsSync(join(theirs, segmentName(1)))).toBe(true);
  });

  it("keeps other cameras' orphans until --stale-after, then removes them and records the loss", async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const fresh = orphan(root, 'cam-b', [7], { pid: deadPid }, 'eeee');
    const stale = orphan(root, 'cam-c', [8], { pid: deadPid }, 'ffff');
    age(stale);
    const { report } = await start(root);
    expect(report.removedStale).toBe(1);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    const losses = readFileSync(join(root, LOSS_LEDGER_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(losses).toEqual([
      expect.objectContaining({ camera: 'cam-c', seqFrom: 8, seqTo: 8, reason: 'stale' }),
    ]);
  });

  it("never follows a symlink or touches another uid's dir, whoever runs the tests", async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const target = mkdtempSync(join(tmpdir(), 'precious-'));
    writeFileSync(join(target, 'keep.txt'), 'x');
    const link = join(root, 'trio-relay-segments-cam-y~-1-link');
    symlinkSync(target, link);
    const foreign = orphan(root, 'cam-z', [1], { pid: deadPid }, 'gggg');
    age(foreign);
    const events: StampedEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const emit = bus.forCamera('cam-a');
    locks.push(await CameraLock.acquire(root, 'cam-a'));
    const spool = await Spool.create({ root, cameraId: 'cam-a', maxBytes: 1e9, emit });
    // The sweep runs as a uid that owns none of this: only root could chown the dir to another
    // uid, so the relay's uid is the one that changes, for root and any other user alike.
    const owner = statSync(foreign).uid;
    const asOther = vi.spyOn(process as { getuid(): number }, 'getuid').mockReturnValue(owner + 4242);
    let report: Awaited<ReturnType<typeof recover>>;
    try {
      report = await recover(spool, 60_000, emit);
    } finally {
      asOther.mockRestore();
    }
    expect(existsSync(join(target, 'keep.txt'))).toBe(true);
    expect(existsSync(link)).toBe(true);
    expect(existsSync(join(foreign, segmentName(1)))).toBe(true);
    expect(report.removedStale).toBe(0);
    const left = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    expect(left).toContain(`sweep: left ${link} (symlink)`);
    expect(left).toContain(`sweep: left ${foreign} (owned by uid ${owner})`);
    expect(ledger(root)).toEqual([]);
    await spool.close();
    await locks.pop()!.release();
    // Run as its owner, the same stale dir is removed, and its segment ledgered.
    const again = await start(root, 60_000);
    expect(again.report.removedStale).toBe(1);
    expect(existsSync(foreign)).toBe(false);
    expect(existsSync(join(target, 'keep.txt'))).toBe(true);
    expect(ledger(root)).toEqual([expect.objectContaining({ camera: 'cam-z', seqFrom: 1, reason: 'stale' })]);
  });

  it('a broken journal never stops the relay, and never deletes segments unaccounted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    // Another camera's dir with a broken journal: whose it is, its name says; kept until --stale-after...
    const theirs = orphan(root, 'cam-b', [1], { pid: deadPid }, 'hhhh');
    writeFileSync(join(theirs, 'journal.jsonl'), '{not json');
    // ...while a dir of this camera is recovered from its files.
    const mine = orphanV2(root, 'cam-a', [2], 'hhh2');
    writeFileSync(join(mine, 'journal.jsonl'), '{not json');
    const first = await start(root);
    expect(first.report.adopted.map((r) => r.sequence)).toEqual([2]);
    expect(existsSync(join(theirs, segmentName(1)))).toBe(true);
    await first.spool.close();
    await locks.pop()!.release();
    age(theirs);
    // Past --stale-after it goes, and its segment is in the ledger under the camera its name says.
    const second = await start(root, 60_000);
    expect(second.report.removedStale).toBe(1);
    expect(existsSync(theirs)).toBe(false);
    expect(ledger(root)).toEqual([
      expect.objectContaining({ camera: 'cam-b', seqFrom: 1, seqTo: 1, reason: 'stale' }),
    ]);
  });

  it('an unreadable entry or an empty partial never stops the relay: each segment adopted, kept or counted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const dir = orphanV2(root, 'cam-a', [2, 3], 'unrd');
    // Written when the disk filled: a partial with no byte in it, not in the journal.
    writeFileSync(join(dir, segmentName(4)), '');
    const first = await start(root);
    expect(first.report.adopted.map((r) => r.sequence)).toEqual([2, 3]);
    expect(first.events).toContainEqual(
      expect.objectContaining({ type: 'segment', phase: 'discarded', sequence: 4, reason: 'empty' }),
    );
    expect(existsSync(dir)).toBe(false);
    expect(ledger(root)).toEqual([]);
    await first.spool.close();
    await locks.pop()!.release();

    // An entry with a segment's name that cannot be read as one (a directory, even for root).
    const odd = orphanV2(root, 'cam-a', [7], 'unr2');
    mkdirSync(join(odd, segmentName(8)));
    const second = await start(root);
    expect(second.events).toContainEqual(
      expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringContaining(odd) }),
    );
    // Segment 7 moved into the new spool and is journaled there for delivery; the dir with
    // what could not be read stays for the operator (and the next start), nothing deleted.
    const journal = (await readJournal(second.spool.dir))!;
    expect(journal.segments.map((s) => s.sequence)).toContain(7);
    expect(existsSync(join(second.spool.dir, segmentName(7)))).toBe(true);
    expect(existsSync(join(odd, segmentName(8)))).toBe(true);
    expect(ledger(root)).toEqual([]);
  });

  it("another camera's stale dir: every segment, journaled or not, is ledgered and announced by that camera's next run", async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const stale = orphanV2(root, 'cam-b', [3], 'kkkk');
    writeFileSync(join(stale, segmentName(4)), sample); // written after the journal, never listed
    age(stale);
    const a = await start(root, 60_000);
    expect(a.report.removedStale).toBe(1);
    expect(ledger(root)).toEqual([
      expect.objectContaining({ camera: 'cam-b', seqFrom: 3, reason: 'stale' }),
      expect.objectContaining({ camera: 'cam-b', seqFrom: 4, reason: 'stale' }),
    ]);
    const b = await start(root, 60_000, prober, 'cam-b');
    expect(b.spool.gaps().map((g) => g.seqFrom)).toEqual([3, 4]);
    expect(b.spool.nextSequence).toBe(5);
  });

  it('kills the ffmpeg a dead relay left running in its spool dir, and nothing else', async () => {
    const root = mkdtempSync(join(tmpdir(), 'recovery-'));
    const dir = orphanDir(root, 'cam-a', 'iiii');
    // Stand-ins: one process whose command line is ffmpeg writing into the orphan, one that is not.
    const leftover = spawn('sh', ['-c', `sleep 60; : ffmpeg ${dir}/seg-%09d.ts`]);
    const bystander = spawn('sh', ['-c', 'sleep 60; : something else']);
    orphan(root, 'cam-a', [1], { pid: deadPid, ffmpegPid: leftover.pid }, 'iiii');
    // A reused pid recorded in another orphan's journal: not ffmpeg in that dir, so it survives.
    orphan(root, 'cam-a', [2], { pid: deadPid, ffmpegPid: bystander.pid }, 'jjjj');
    const killed = new Promise((resolve) => leftover.once('exit', (_code, signal) => resolve(signal)));
    await start(root);
    expect(await killed).toBe('SIGKILL');
    expect(bystander.exitCode).toBeNull();
    bystander.kill();
  });
});
