import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (100 on every Linux we know). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) the process itself has used, children (ffmpeg) excluded. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) and VmRSS of a live process, in MiB. */
export function memoryMiB(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { hwm: kib('VmHWM') / 1024, rss: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Samples a process until stopped, so its peak and CPU are known even if it exits first: the
 * last reading taken while it was alive wins.
 */
export class ProcessSampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #hwm = 0;
  #cpu = 0;

  constructor(pid: number, intervalMs = 200) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  /** Peak RSS so far, MiB. */
  get peakMiB(): number {
    this.#sample();
    return this.#hwm;
  }
  /** CPU seconds so far. */
  get cpuS(): number {
    this.#sample();
    return this.#cpu;
  }

  stop(): { peakMiB: number; cpuS: number } {
    this.#sample();
    clearInterval(this.#timer);
    return { peakMiB: this.#hwm, cpuS: this.#cpu };
  }

  #sample(): void {
    const memory = memoryMiB(this.#pid);
    const cpu = cpuSeconds(this.#pid);
    if (memory) this.#hwm = Math.max(this.#hwm, memory.hwm);
    if (cpu !== undefined) this.#cpu = cpu;
  }
}
