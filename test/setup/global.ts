import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every temp dir a test makes lands in one folder, removed when the run ends. */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'trio-relay-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    if (!process.env.TRIO_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
  };
}
