/**
 * `npm run bench [-- --quick] [--out DIR] [--only NAME,…] [--soak-minutes N] [--update-readme]`:
 * the benchmark suite. The soak (an hour by default) runs only when named: `--only soak`. Prints the table and writes it as markdown and JSON to test/bench/results/ (latest.*
 * for a full run, quick.* for --quick). Every comparison is a ratio measured in the same run.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopAllCameras } from '../helpers/camera.js';
import { cliPath, killAllClis } from '../helpers/cli.js';
import { makeSegmentPool } from './backlog.js';
import { describeMachine } from './machine.js';
import { FULL, type Profile, QUICK } from './profile.js';
import { type BenchReport, type Row, toMarkdown, toText } from './report.js';
import { drainBenchmark } from './scenarios/drain.js';
import { liveBenchmark } from './scenarios/live.js';
import { memoryBenchmark } from './scenarios/memory.js';
import { recoveryBenchmark } from './scenarios/recovery.js';
import { scaleBenchmark } from './scenarios/scale.js';
import { slowLinkBenchmark } from './scenarios/slow-link.js';
import { soakBenchmark } from './scenarios/soak.js';

const RESULTS = fileURLToPath(new URL('./results', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

type Scenario = (profile: Profile, log: (line: string) => void, args: Args) => Promise<Row[]>;

const SCENARIOS: Record<string, Scenario> = {
  drain: async (profile, log) => {
    const { segments, segmentBytes } = profile.drain;
    const pool = makeSegmentPool(segments, segmentBytes);
    try {
      return await drainBenchmark(profile, pool, log);
    } finally {
      rmSync(pool.dir, { recursive: true, force: true });
    }
  },
  'slow-link': slowLinkBenchmark,
  live: liveBenchmark,
  memory: memoryBenchmark,
  scale: scaleBenchmark,
  recovery: recoveryBenchmark,
  soak: (_profile, log, args) => soakBenchmark({ minutes: args.soakMinutes }, log),
};

/** Scenarios that run only when named with --only (too long for every run). */
const ON_DEMAND = new Set(['soak']);

interface Args {
  quick: boolean;
  out: string;
  only: string[];
  soakMinutes: number;
  updateReadme: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    quick: false,
    out: RESULTS,
    only: Object.keys(SCENARIOS).filter((name) => !ON_DEMAND.has(name)),
    soakMinutes: 60,
    updateReadme: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') args.quick = true;
    else if (arg === '--update-readme') args.updateReadme = true;
    else if (arg === '--out' && argv[i + 1]) args.out = argv[++i]!;
    else if (arg === '--only' && argv[i + 1]) args.only = argv[++i]!.split(',');
    else if (arg === '--soak-minutes' && Number(argv[i + 1]) > 0) args.soakMinutes = Number(argv[++i]);
    else
      throw new Error(
        `bench: unknown argument ${arg} (expected --quick, --out DIR, --only ${Object.keys(SCENARIOS).join(',')}, --soak-minutes N, --update-readme)`,
      );
  }
  for (const name of args.only) if (!SCENARIOS[name]) throw new Error(`bench: no scenario "${name}"`);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The suite measures the built CLI, as operators run it; it does not build (npm test already has).
  const built = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  if (!existsSync(built))
    throw new Error(`bench: ${built} is missing: run npm run build first (the suite runs ${cliPath})`);
  const profile = args.quick ? QUICK : FULL;
  const began = Date.now();
  const machine = describeMachine();
  const log = (line: string) =>
    process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1)} s] ${line}\n`);
  log(`${profile.name} run: ${args.only.join(', ')}`);
  const rows: Row[] = [];
  for (const name of args.only) {
    const started = Date.now();
    try {
      rows.push(...(await SCENARIOS[name]!(profile, log, args)));
      log(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      // One broken scenario must not cost the table of the others (a full run is long).
      process.exitCode = 1;
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
      log(`${name} FAILED: ${error instanceof Error ? (error.stack ?? message) : message}`);
      const nothing = { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
      rows.push({ section: name, figure: `failed: ${message}`, unit: '', value: nothing });
    }
  }
  // Scenarios may add rows to another's section (live adds its peak RSS to Memory): group them.
  const order = [...new Set(rows.map((r) => r.section))];
  rows.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
  const report: BenchReport = {
    profile: profile.name,
    startedAt: new Date(began).toISOString(),
    durationS: (Date.now() - began) / 1000,
    machine,
    loadAtEnd: Math.round(loadavg()[0]! * 100) / 100,
    rows,
  };
  const markdown = toMarkdown(report);
  const base = profile.name === 'full' ? 'latest' : 'quick';
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, `${base}.md`), markdown);
  writeFileSync(join(args.out, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${toText(markdown)}\n\nwritten to ${join(args.out, `${base}.md`)} and .json\n`);
  if (args.updateReadme) updateReadme(markdown);
}

/** Replace the table between the README's bench markers. */
function updateReadme(markdown: string): void {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start)
    throw new Error(`bench: README.md has no ${README_START} … ${README_END} block`);
  writeFileSync(README, `${text.slice(0, start + README_START.length)}\n${markdown}${text.slice(end)}`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  killAllClis();
  await stopAllCameras();
}
