/** Seconds to the millisecond, as every duration the relay records or says. */
export function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
