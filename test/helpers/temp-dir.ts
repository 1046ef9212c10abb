import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh directory for one test under this run's TMPDIR (test/setup/global.ts gives every run
 * its own, removed after it), named `<prefix>XXXXXX`.
 */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
