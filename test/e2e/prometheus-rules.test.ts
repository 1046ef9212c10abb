import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../helpers/temp-dir.js';
import { ALERTS_FILE, compressTime, promtool, RULES_DIR, readRules } from './prometheus-server.js';

/**
 * The shipped alert rules (docker/prometheus/alerts.yml) under Debian's promtool: they load,
 * their unit tests (alerts.test.yml) pass, each alert is tested firing and not firing, and the
 * README quotes the file as it is.
 */
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const UNIT_TESTS = join(RULES_DIR, 'alerts.test.yml');

/** The README's ```yaml blocks, as written. */
function readmeYamlBlocks(): string[] {
  return [...readFileSync(README, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

interface RuleUnitTests {
  rule_files: string[];
  tests: Array<{
    name: string;
    alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
  }>;
}

describe('the shipped Prometheus alert rules', () => {
  it('pass promtool check rules', async () => {
    const run = await promtool(['check', 'rules', ALERTS_FILE]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/SUCCESS: 3 rules found/);
  });

  it('pass their promtool unit tests', async () => {
    const run = await promtool(['test', 'rules', UNIT_TESTS]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/SUCCESS/);
  });

  it('each alert has a unit test where it fires and one where it does not', () => {
    const unit = parse(readFileSync(UNIT_TESTS, 'utf8')) as RuleUnitTests;
    expect(unit.rule_files).toEqual(['alerts.yml']);
    const cases = unit.tests.flatMap((t) => t.alert_rule_test);
    const alerts = readRules().groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).toEqual(['TrioRelayBacklogOld', 'TrioRelayLosingVideo', 'TrioRelayCameraDown']);
    for (const alert of alerts) {
      const own = cases.filter((c) => c.alertname === alert);
      expect(
        own.some((c) => c.exp_alerts.length > 0),
        `${alert} firing`,
      ).toBe(true);
      expect(
        own.some((c) => c.exp_alerts.length === 0),
        `${alert} not firing`,
      ).toBe(true);
    }
  });

  it('are quoted verbatim in the README', () => {
    const shipped = readFileSync(ALERTS_FILE, 'utf8');
    const quoted = readmeYamlBlocks().filter((b) => b.includes('alert: TrioRelay'));
    expect(quoted).toEqual([shipped]);
  });

  it("the README's prometheus.yml loads them: promtool check config", async () => {
    const config = readmeYamlBlocks().find((b) => b.includes('scrape_configs:'));
    expect(config).toBeDefined();
    const dir = tempDir('prometheus-config-');
    copyFileSync(ALERTS_FILE, join(dir, 'alerts.yml'));
    writeFileSync(join(dir, 'prometheus.yml'), config!);
    const run = await promtool(['check', 'config', 'prometheus.yml'], '', dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/SUCCESS: 3 rules found/);
  });

  it('compressed in time for the e2e test, keep their expressions but for the numbers of seconds', () => {
    const rules = compressTime(readRules(), 30).groups[0]!.rules;
    expect(rules.map((r) => [r.alert, r.expr, r.for])).toEqual([
      ['TrioRelayBacklogOld', 'trio_relay_backlog_age_seconds > 10', '4s'],
      [
        'TrioRelayLosingVideo',
        'sum by (instance, camera, reason) (increase(trio_relay_lost_seconds_total[30s])) > 0',
        undefined,
      ],
      ['TrioRelayCameraDown', 'trio_relay_last_closed_age_seconds > 4', '2s'],
    ]);
  });
});
