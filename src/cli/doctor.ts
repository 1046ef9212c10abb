import { type RelayFlags, resolveRelayConfig } from '../config/relay-config.js';
import { type CheckResult, runChecks } from '../doctor/checks.js';
import { ExitCode } from '../errors.js';
import { redact } from '../redact.js';
import { UndiciTransport } from '../uploader/http.js';
import { resolveCameraSource } from './onvif-source.js';
import { lastWins } from './relay.js';

const MARK: Record<CheckResult['status'], string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/** `trio-relay doctor`: the relay's checklist with the relay's own flags; exit 0 only when nothing failed. */
export async function runDoctorCommand(flags: RelayFlags): Promise<number> {
  const last = lastWins(flags);
  // No stop to watch: doctor ends on its own, each ONVIF call within its deadline.
  const camera = await resolveCameraSource(last, { signal: new AbortController().signal });
  const config = resolveRelayConfig(camera);
  const transport = new UndiciTransport({ connectTimeoutMs: 10_000, extraCa: config.extraCa });
  let results: CheckResult[];
  try {
    results = await runChecks(config, { transport, sourceSeconds: 5, maxClockSkewS: 2 });
  } finally {
    await transport.close();
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  if (config.json) {
    process.stdout.write(
      `${redact(JSON.stringify({ v: 1, type: 'doctor', ok: failed === 0, checks: results }))}\n`,
    );
  } else {
    const width = Math.max(...results.map((r) => r.check.length));
    for (const r of results) {
      process.stdout.write(redact(`${MARK[r.status]} ${r.check.padEnd(width)}  ${r.detail}\n`));
      if (r.hint && r.status !== 'ok') process.stdout.write(redact(`  ${' '.repeat(width)}  → ${r.hint}\n`));
    }
    process.stdout.write(failed === 0 ? 'all checks passed\n' : `${failed} check(s) failed\n`);
  }
  return failed === 0 ? ExitCode.ok : ExitCode.failure;
}
