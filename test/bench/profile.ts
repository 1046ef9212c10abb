/** How big each benchmark is: `full` is the size (< 10 min on 2 cores), `quick` keeps CI honest (< 1 min). */
export interface Profile {
  readonly name: 'quick' | 'full';
  readonly drain: {
    readonly segments: number;
    readonly segmentBytes: number;
    readonly concurrencies: readonly number[];
    readonly runs: number;
  };
  readonly slowLink: {
    /** The ingest's --read-rate, and the same in bytes/s. */
    readonly rate: string;
    readonly rateBytesPerS: number;
    /** A backlog of this many seconds of ~4 Mbit/s video (1 MB per 2 s segment). */
    readonly backlogS: number;
    readonly outageMs: number;
    readonly runs: number;
  };
  readonly live: { readonly seconds: number; readonly windowS: number; readonly bitrateKbps: number };
  readonly idle: { readonly seconds: number };
  /** A camera that refuses connections: CPU over `seconds` after `warmupS` (start-up's GCs are not steady state). */
  readonly unreachable: { readonly warmupS: number; readonly seconds: number };
  readonly memoryDrain: { readonly segments: number; readonly segmentBytes: number };
  readonly scale: { readonly cameras: readonly number[]; readonly seconds: number };
  /** The faults: a burst of 503s, then POSTs that hang (longer than the phase timeouts). */
  readonly recovery: { readonly burstMs: number; readonly hangMs: number; readonly runs: number };
}

const MB = 1_000_000;

export const FULL: Profile = {
  name: 'full',
  drain: { segments: 300, segmentBytes: 2 * MB, concurrencies: [1, 2, 4], runs: 3 },
  slowLink: { rate: '16Mbit/s', rateBytesPerS: 2 * MB, backlogS: 60, outageMs: 5000, runs: 3 },
  live: { seconds: 120, windowS: 30, bitrateKbps: 4000 },
  idle: { seconds: 15 },
  // 10 ms CPU ticks: 120 s resolve 0.008 % of a core, fine enough for a 0.05 % goal.
  unreachable: { warmupS: 70, seconds: 120 },
  memoryDrain: { segments: 512, segmentBytes: 2 * MB },
  scale: { cameras: [1, 8, 32], seconds: 40 },
  recovery: { burstMs: 20_000, hangMs: 45_000, runs: 3 },
};

export const QUICK: Profile = {
  name: 'quick',
  drain: { segments: 20, segmentBytes: 1 * MB, concurrencies: [1, 2], runs: 1 },
  slowLink: { rate: '32Mbit/s', rateBytesPerS: 4 * MB, backlogS: 12, outageMs: 1000, runs: 1 },
  live: { seconds: 6, windowS: 3, bitrateKbps: 4000 },
  idle: { seconds: 2 },
  unreachable: { warmupS: 0, seconds: 2 },
  memoryDrain: { segments: 30, segmentBytes: 1 * MB },
  scale: { cameras: [1, 2], seconds: 3 },
  recovery: { burstMs: 3000, hangMs: 7000, runs: 1 },
};
