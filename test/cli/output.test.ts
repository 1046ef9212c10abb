import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { attachOutput } from '../../src/cli/output.js';
import { EventBus, type StatusSnapshot } from '../../src/telemetry/events.js';
import { formatStatus } from '../../src/telemetry/status-line.js';
import { schemaViolation } from '../helpers/ndjson-schema.js';
import { healthySnapshot } from '../telemetry/snapshot.js';

let stderr: MockInstance;
let written: string[];
const tty = { isTTY: process.stderr.isTTY, columns: process.stderr.columns, rows: process.stderr.rows };

/** Pretend stderr is (or is not) a terminal of this size. */
function terminal(isTTY: boolean, columns = 100, rows = 24): void {
  Object.assign(process.stderr, { isTTY, columns, rows });
}

beforeEach(() => {
  vi.useFakeTimers();
  written = [];
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  stderr.mockRestore();
  Object.assign(process.stderr, tty);
  vi.useRealTimers();
});

const tracker = (camera: string, snapshot: StatusSnapshot = healthySnapshot()) => ({
  camera,
  snapshot: () => snapshot,
});

describe('output, --json', () => {
  it('one progress event per camera per second, from one timer; a removed camera stops', () => {
    terminal(false);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: true, verbose: false });
    const removeA = output.onTracker(tracker('cam-a'), bus.forCamera('cam-a'));
    output.onTracker(tracker('cam-b', healthySnapshot({ pending: 7 })), bus.forCamera('cam-b'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    const events = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => [e.type, e.camera, (e.snapshot as StatusSnapshot).pending])).toEqual([
      ['progress', 'cam-a', 1],
      ['progress', 'cam-b', 7],
    ]);
    for (const event of events) expect(schemaViolation(event)).toBeUndefined();

    written.length = 0;
    removeA();
    vi.advanceTimersByTime(1000);
    expect(written.map((line) => JSON.parse(line).camera)).toEqual(['cam-b']);
    output.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('while no figure changes, progress slows to every 10 s; any event brings it back to every second', () => {
    terminal(false);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: true, verbose: false });
    let uptimeS = 0;
    const quiet = { camera: 'cam-a', snapshot: () => healthySnapshot({ uptimeS: ++uptimeS }) };
    output.onTracker(quiet, bus.forCamera('cam-a'));
    const progress = () => written.filter((line) => line.includes('"type":"progress"')).length;
    vi.advanceTimersByTime(4000);
    expect(progress()).toBe(4);
    vi.advanceTimersByTime(9000);
    expect(progress()).toBe(4); // the uptime moved, nothing else
    vi.advanceTimersByTime(1000);
    expect(progress()).toBe(5);
    bus.forCamera('cam-a')({ type: 'state', state: 'connecting' });
    vi.advanceTimersByTime(1000);
    expect(progress()).toBe(6);
    vi.advanceTimersByTime(1000);
    expect(progress()).toBe(7);
    output.close();
  });

  it('the timer goes with the last camera and comes back with the next; none after close', () => {
    terminal(false);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: true, verbose: false });
    const remove = output.onTracker(tracker('cam-a'), bus.forCamera('cam-a'));
    remove();
    expect(vi.getTimerCount()).toBe(0);
    output.onTracker(tracker('cam-b'), bus.forCamera('cam-b'));
    expect(vi.getTimerCount()).toBe(1);
    expect(output.snapshot()).toEqual(healthySnapshot());
    output.close();
    output.onTracker(tracker('cam-c'), bus.forCamera('cam-c'));
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('output, a camera whose numbers fail', () => {
  it('is left out, said once; the others go on and the timer does not throw', () => {
    terminal(false);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: true, verbose: false });
    const broken = {
      camera: 'cam-a',
      snapshot: (): StatusSnapshot => {
        throw new Error('spool gone');
      },
    };
    output.onTracker(broken, bus.forCamera('cam-a'));
    output.onTracker(tracker('cam-b'), bus.forCamera('cam-b'));
    vi.advanceTimersByTime(2000);
    expect(written.filter((l) => l.includes('spool gone'))).toEqual([
      'trio-relay: the status of cam-a failed (later failures not shown): Error: spool gone\n',
    ]);
    const progress = written.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).camera);
    expect(progress).toEqual(['cam-b', 'cam-b']);
    output.close();
  });
});

describe('output on a TTY', () => {
  it('one camera: the status line as before, cleared before a log line', () => {
    terminal(true, 100, 24);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: false, verbose: false });
    output.onTracker(tracker('cam-a'), bus.forCamera('cam-a'));
    vi.advanceTimersByTime(1000);
    const line = formatStatus(healthySnapshot(), 99);
    expect(written).toEqual([`\r\x1b[2K${line}`]);
    bus.forCamera('cam-a')({ type: 'log', level: 'warn', message: 'careful' });
    expect(written.slice(1, 2)).toEqual(['\r\x1b[2K']);
    expect(written[2]).toMatch(/^\d\d:\d\d:\d\d warning: careful\n$/);
    output.close();
  });

  it('several cameras: a line each after its id, redrawn in place; log lines name the camera', () => {
    terminal(true, 100, 24);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: false, verbose: false });
    output.onTracker(tracker('front'), bus.forCamera('front'));
    const removeBack = output.onTracker(
      tracker('back-yard', healthySnapshot({ ingestFailingS: 5 })),
      bus.forCamera('back-yard'),
    );
    vi.advanceTimersByTime(1000);
    expect(written).toHaveLength(1);
    const [front, back] = written[0]!.replace(/^\r/, '').split('\n');
    expect(front).toBe(`\x1b[2Kfront     | ${formatStatus(healthySnapshot(), 87)}`);
    expect(back?.startsWith('\x1b[2Kback-yard | INGEST FAILING 5s')).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(written[1]!.startsWith('\x1b[1A\r\x1b[2Kfront ')).toBe(true);

    bus.forCamera('back-yard')({ type: 'log', level: 'warn', message: 'careful' });
    expect(written[2]).toBe('\x1b[1A\r\x1b[J');
    expect(written[3]).toMatch(/^\d\d:\d\d:\d\d \[back-yard\] warning: careful\n$/);

    removeBack();
    vi.advanceTimersByTime(1000);
    expect(written[4]).toBe(`\r\x1b[2K${formatStatus(healthySnapshot(), 99)}`);
    output.close();
  });
});

describe('output without a TTY (the demo)', () => {
  it('a plain status line per camera at the period asked for', () => {
    terminal(false);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: false, verbose: false, plainStatusMs: 2000 });
    output.onTracker(tracker('cam-a'), bus.forCamera('cam-a'));
    vi.advanceTimersByTime(1000);
    expect(written).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(written).toEqual([`${formatStatus(healthySnapshot())}\n`]);

    output.onTracker(tracker('cam-bb'), bus.forCamera('cam-bb'));
    written.length = 0;
    vi.advanceTimersByTime(2000);
    expect(written).toEqual([
      `cam-a  | ${formatStatus(healthySnapshot())}\n`,
      `cam-bb | ${formatStatus(healthySnapshot())}\n`,
    ]);
    expect(vi.getTimerCount()).toBe(1);
    output.close();
  });

  it('nothing periodic without plainStatusMs', () => {
    terminal(false);
    const bus = new EventBus();
    const output = attachOutput(bus, { json: false, verbose: false });
    output.onTracker(tracker('cam-a'), bus.forCamera('cam-a'));
    vi.advanceTimersByTime(5000);
    expect(written).toEqual([]);
    output.close();
  });
});
