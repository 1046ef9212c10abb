import { ExitCode } from '../errors.js';
import { type FleetReport, isFailure } from '../lifecycle/outcome.js';

/**
 * A fleet's report → the process's exit code (README, "Exit codes"). An error to print as the
 * process's own is thrown, for main to print once: a failure that stopped every camera, or a
 * lone camera's failure. With several cameras each failure was reported as it happened, and the
 * first one's code still tells that a camera ended badly.
 */
export function exitCodeOf(report: FleetReport): number {
  if (report.stoppedAllBy) throw report.stoppedAllBy.error;
  const failure = report.cameras.find(isFailure);
  if (!failure) return ExitCode.ok;
  if (report.single) throw failure.error;
  return failure.error.exitCode;
}
