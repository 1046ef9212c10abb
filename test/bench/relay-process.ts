import { type CliProcess, startCli } from '../helpers/cli.js';
import { type RelayEvent, TOKEN } from '../helpers/relay-run.js';
import { ProcessSampler } from './proc-stats.js';

const STOP_MS = 30_000;

export interface BenchRelayOptions {
  source: string;
  cloud: string;
  spoolRoot: string;
  cameraId: string;
  extra?: readonly string[];
}

/** Many cameras in one relay: a config file with a `cameras:` list instead of --source. */
export interface BenchFleetOptions {
  config: string;
  cloud: string;
  spoolRoot: string;
  extra?: readonly string[];
}

/** The built relay with the flags every benchmark shares, sampled (RSS, CPU) from its start. */
export class BenchRelay {
  readonly cli: CliProcess;
  readonly sampler: ProcessSampler;
  readonly startedAt = Date.now();

  constructor(options: BenchRelayOptions | BenchFleetOptions) {
    const cameras =
      'config' in options
        ? ['--config', options.config]
        : ['--source', options.source, '--camera-id', options.cameraId];
    this.cli = startCli([
      ...cameras,
      ...['--cloud', options.cloud, '--token', TOKEN, '--spool-dir', options.spoolRoot, '--json'],
      // Room for the biggest backlog (nothing may be evicted) and time to deliver the last segment.
      ...['--max-spool-mb', '4096', '--drain-timeout', '15s'],
      ...(options.extra ?? []),
    ]);
    this.sampler = new ProcessSampler(this.cli.pid);
  }

  events(): RelayEvent[] {
    return this.cli.events() as RelayEvent[];
  }

  /** Date.now() of each closed segment, by sequence (the relay's `closed` events). */
  closedAt(): Map<number, number> {
    const closed = new Map<number, number>();
    for (const e of this.events()) {
      if (e.type === 'segment' && e.phase === 'closed') closed.set(e.sequence!, Date.parse(String(e.ts)));
    }
    return closed;
  }

  /** PID of the ffmpeg it runs now, once one started. */
  ffmpegPid(): number | undefined {
    const started = this.events().filter((e) => e.type === 'ffmpeg' && e.phase === 'started');
    return started.at(-1)?.pid as number | undefined;
  }

  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return this.cli.waitFor(predicate, timeoutMs, what);
  }

  /** SIGTERM (it drains within --drain-timeout), then the sampler's last reading. */
  async stop(): Promise<{ peakMiB: number; cpuS: number; code: number | null }> {
    const reading = this.sampler.stop();
    this.cli.kill('SIGTERM');
    const timer = setTimeout(() => this.cli.kill('SIGKILL'), STOP_MS);
    const { code } = await this.cli.exited;
    clearTimeout(timer);
    return { ...reading, code };
  }
}
