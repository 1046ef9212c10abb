import { describe, expect, it } from 'vitest';
import { interpolate, panelQueries, readDashboard, variableQueries } from './prometheus-dashboard.js';

/**
 * The Grafana dashboard's shape: importable (ids, layout, data source variable) and covering
 * what an operator of a fleet asks first. prometheus.e2e.test.ts runs its queries for real.
 */
describe('the Grafana fleet dashboard', () => {
  const dashboard = readDashboard();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's reference to its `datasource` variable.
  const datasource = { type: 'prometheus', uid: '${datasource}' };
  const values = { instance: '.*', camera: '.*', __rate_interval: '1m', __range: '1h' };

  it('has unique panel ids, a place for each panel, and the Prometheus variable as data source', () => {
    expect(dashboard.uid).toBe('trio-relay-fleet');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.w, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.datasource, panel.title).toEqual(datasource);
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets) expect(t.datasource, panel.title).toEqual(panel.datasource);
    }
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['instance', 'query'],
      ['camera', 'query'],
    ]);
  });

  it('selects by instance and camera in every query, with known variables only', () => {
    expect(variableQueries(dashboard).map((q) => [q.variable, q.label])).toEqual([
      ['instance', 'instance'],
      ['camera', 'camera'],
    ]);
    for (const { where, expr } of panelQueries(dashboard)) {
      expect(expr, where).toMatch(/instance=~"\$instance"/);
      // Process metrics are per relay; every other series is per camera.
      if (!expr.includes('process_')) expect(expr, where).toMatch(/camera=~"\$camera"/);
      expect(() => interpolate(expr, values), where).not.toThrow();
    }
  });

  it('shows backlog age, lost seconds by reason, delivered bytes and close→ack latency per camera', () => {
    const exprs = panelQueries(dashboard).map((q) => q.expr);
    const perCamera = (metric: string, by = 'instance, camera') =>
      exprs.some((e) => e.includes(metric) && e.includes(`by (${by}`));
    expect(perCamera('trio_relay_backlog_age_seconds')).toBe(true);
    expect(perCamera('trio_relay_lost_seconds_total', 'instance, camera, reason')).toBe(true);
    expect(perCamera('trio_relay_delivered_bytes_total')).toBe(true);
    expect(perCamera('trio_relay_close_to_ack_seconds_bucket', 'instance, camera, le')).toBe(true);
    expect(perCamera('trio_relay_last_closed_age_seconds')).toBe(true);
  });
});
