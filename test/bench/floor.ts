import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { SHEBANG_NODE_FLAGS } from '../helpers/cli.js';
import { memoryMiB } from './proc-stats.js';

/** The design card's run-time libraries: what any relay built on them must load. */
export const FLOOR_LIBRARIES = ['undici', 'execa', 'yargs', 'tmp', 'p-queue'] as const;

const ROOT = new URL('../..', import.meta.url);

/**
 * Peak RSS (MiB) of "the floor": node with the shim's V8 flags and the run-time libraries
 * imported, nothing else. Measured once per bench run and shared, so every memory figure of
 * the run is a ratio to a floor taken on the same machine, under the same load.
 */
export function floorMiB(): Promise<number> {
  measured ??= measure();
  return measured;
}
let measured: Promise<number> | undefined;

/** The median of three, as one start-up can catch the machine busy. */
async function measure(): Promise<number> {
  const peaks: number[] = [];
  for (let i = 0; i < 3; i++) peaks.push(await onePeak());
  return peaks.sort((a, b) => a - b)[1]!;
}

async function onePeak(): Promise<number> {
  const imports = FLOOR_LIBRARIES.map((name) => `await import('${name}');`).join(' ');
  const child = spawn(
    process.execPath,
    [
      ...SHEBANG_NODE_FLAGS,
      '--input-type=module',
      '-e',
      `${imports} console.log('up'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
  );
  try {
    await once(child.stdout!, 'data');
    await sleep(500);
    return memoryMiB(child.pid!)?.hwm ?? Number.NaN;
  } finally {
    child.kill('SIGKILL');
  }
}

/** A figure as its ratio to the floor, and whether it meets `goal` (× floor). */
export function overFloor(peakMiB: number, floor: number, goal?: number) {
  const ratio = peakMiB / floor;
  return goal === undefined
    ? { ratio }
    : { ratio, goal: `≤ ${goal.toFixed(2)} × floor`, meets: ratio <= goal };
}
