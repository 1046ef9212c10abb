import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's libfaketime (package faketime), under the machine's multiarch dir. */
export function libfaketime(): string {
  const found = readdirSync('/usr/lib')
    .map((dir) => join('/usr/lib', dir, 'faketime', 'libfaketime.so.1'))
    .find((path) => existsSync(path));
  if (!found) throw new Error('libfaketime.so.1 not found: apt-get install faketime');
  return found;
}

/**
 * A wall clock for one process tree that a test can move: the environment that loads
 * libfaketime with its offset read from `offsetFile`, the monotonic clock left alone (as a real
 * NTP step or a manual `date -s` leaves it). Write `+3600` to the file to jump an hour ahead;
 * the process sees it at its next reading of the clock (the file is read at every reading, which
 * costs a little CPU but lets a test place the jump exactly).
 */
export function movableClock(offsetFile: string): NodeJS.ProcessEnv {
  writeFileSync(offsetFile, '+0\n');
  return {
    LD_PRELOAD: libfaketime(),
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_NO_CACHE: '1',
  };
}
