/** Median, min and max of a few runs: the only shape a figure takes in the report. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many values it summarizes. */
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    n: sorted.length,
  };
}

/** The q-quantile (0..1) of ascending `sorted`, interpolated between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function percentiles(values: readonly number[], qs: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return qs.map((q) => quantile(sorted, q));
}
