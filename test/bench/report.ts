import type { Machine } from './machine.js';
import type { Spread } from './stats.js';

/** One line of the table: a figure (median, min, max of its runs), its unit and the goal. */
export interface Row {
  readonly section: string;
  readonly figure: string;
  readonly unit: string;
  readonly value: Spread;
  /** The goal, as text ("≥ 90 %"), when there is one. */
  readonly goal?: string;
  readonly meets?: boolean;
}

export interface BenchReport {
  readonly profile: 'quick' | 'full';
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: Machine;
  /** 1-minute load average when the run ended. */
  readonly loadAtEnd: number;
  readonly rows: readonly Row[];
}

export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `trio-relay benchmarks (${report.profile}), ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(report.durationS)} s`,
    '',
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, ffmpeg ${m.ffmpeg}; load ${m.loadAtStart} → ${report.loadAtEnd}`,
    '',
    '| benchmark | figure | median | min | max | n | goal |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of report.rows) {
    const { median, min, max, n } = row.value;
    const goal = row.goal === undefined ? '' : `${row.goal} ${row.meets ? '✓' : '✗'}`;
    lines.push(
      `| ${row.section} | ${row.figure} | ${fmt(median, row.unit)} | ${fmt(min, row.unit)} | ${fmt(max, row.unit)} | ${n} | ${goal} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** The table as the terminal shows it: the markdown, aligned. */
export function toText(markdown: string): string {
  const lines = markdown.split('\n');
  const table = lines
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const aligned = table
    .filter((r) => !r[0]!.startsWith('---'))
    .map((r) =>
      r.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  '),
    );
  return [...lines.filter((l) => l && !l.startsWith('|')), ...aligned].join('\n');
}
