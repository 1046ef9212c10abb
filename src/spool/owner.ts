import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Owner } from './journal.js';

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), Linux only. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's part of the owner never changes: read /proc and the clock once, not per journal write. */
let self: Omit<Owner, 'ffmpegPid'> | undefined;

export function currentOwner(ffmpegPid?: number): Owner {
  self ??= {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    procStart: procStartTime(process.pid),
  };
  return { ...self, ffmpegPid };
}

/**
 * Whether the relay that wrote a journal still runs. Another host's relay (a shared spool on a
 * network disk) cannot be checked: it counts as live while `recentlyWritten` says so.
 */
export function ownerAlive(owner: Owner, recentlyWritten: boolean): boolean {
  if (owner.host !== hostname()) return recentlyWritten;
  if (!pidAlive(owner.pid)) return false;
  // A container restart reuses pids (often 1): the start time tells the incarnations apart.
  const start = procStartTime(owner.pid);
  if (owner.procStart !== undefined && start !== undefined) return start === owner.procStart;
  if (owner.pid === process.pid) {
    return Math.abs(Date.parse(owner.startedAt) - Date.parse(currentOwner().startedAt)) < 2000;
  }
  return true;
}
