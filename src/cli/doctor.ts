import type { CameraEntry } from '../config/fleet-config.js';
import { cameraIdOf, type RelayFlags } from '../config/relay-config.js';
import { type CheckResult, runChecks } from '../doctor/checks.js';
import { ExitCode } from '../errors.js';
import { redact } from '../redact.js';
import { UndiciTransport } from '../uploader/http.js';
import { resolveFleet } from './camera-sources.js';

const MARK: Record<CheckResult['status'], string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/**
 * `trio-relay doctor`: the relay's checklist with the relay's own flags (and config file); with a
 * `cameras:` list, the checklist of each camera in turn. Exit 0 only when nothing failed.
 */
export async function runDoctorCommand(flags: RelayFlags, cameras?: readonly CameraEntry[]): Promise<number> {
  // No stop to watch: doctor ends on its own, each ONVIF call within its deadline.
  const fleet = await resolveFleet({ flags, cameras }, { signal: new AbortController().signal });
  const settings = fleet.process;
  const transport = new UndiciTransport({
    connectTimeoutMs: 10_000,
    extraCa: settings.extraCa,
    proxy: settings.proxy.kind === 'proxy' ? settings.proxy.url : undefined,
  });
  const results: CheckResult[] = [];
  try {
    for (const camera of fleet.cameras) {
      const checks = await runChecks(camera, settings, { transport, sourceSeconds: 5, maxClockSkewS: 2 });
      const id = cameraIdOf(camera);
      results.push(...(fleet.single ? checks : checks.map((r) => ({ ...r, check: `[${id}] ${r.check}` }))));
    }
  } finally {
    await transport.close();
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  if (settings.json) {
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
