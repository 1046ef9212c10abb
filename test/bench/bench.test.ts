import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from './report.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The sections every run reports, in order; a scenario that stops producing rows fails here. */
const SECTIONS = [
  'Backlog drain, loopback',
  'Drain behind a slow link',
  'Latency, live 2 s segments',
  'CPU, live --codec copy',
  'Memory, peak RSS',
  'Scale, one relay process per camera',
  'Scale, many cameras in one relay process',
  'Recovery after an ingest fault',
];

// CI runs the quick benchmark so it cannot rot. It checks the table's shape, never a timing:
// the figures depend on the machine and on whatever else it runs.
describe('npm run bench -- --quick', () => {
  it('runs every scenario and writes a well-formed table as markdown and JSON', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-results-'));
    const { stdout } = await run('npm', ['run', '--silent', 'bench', '--', '--quick', '--out', out], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const report = JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8')) as BenchReport;
    expect(report.profile).toBe('quick');
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.ffmpeg).not.toBe('not found');
    expect([...new Set(report.rows.map((r) => r.section))]).toEqual(SECTIONS);
    for (const row of report.rows) {
      const { median, min, max, n } = row.value;
      expect(n, row.figure).toBeGreaterThan(0);
      expect(
        Number.isFinite(median) && min <= median && median <= max,
        `${row.figure}: ${min} ≤ ${median} ≤ ${max}`,
      ).toBe(true);
      expect(row.meets === undefined, row.figure).toBe(row.goal === undefined);
    }
    // The relay and the baseline each delivered something, and nothing was lost at scale.
    const figure = (text: string) => report.rows.find((r) => r.figure.startsWith(text))!;
    expect(figure('relay, --upload-concurrency 1').value.median).toBeGreaterThan(0);
    expect(figure('baseline undici loop, 1 at a time').value.median).toBeGreaterThan(0);
    for (const row of report.rows.filter((r) => r.figure.includes('segments lost')))
      expect(row.meets).toBe(true);
    const markdown = readFileSync(join(out, 'quick.md'), 'utf8');
    expect(markdown).toMatch(/^trio-relay benchmarks \(quick\)/);
    expect(markdown).toContain(`Machine: ${report.machine.cores} ×`);
    expect(markdown.split('\n').filter((l) => l.startsWith('| ')).length).toBe(report.rows.length + 2);
    expect(stdout).toContain('median');
  }, 240_000);
});
