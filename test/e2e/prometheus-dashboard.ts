import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The fleet dashboard shipped for Grafana. */
export const DASHBOARD_FILE = fileURLToPath(
  new URL('../../docker/grafana/trio-relay-fleet.json', import.meta.url),
);

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets: DashboardTarget[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query: string | { query: string };
  definition?: string;
}

export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: DashboardVariable[] };
  panels: DashboardPanel[];
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** One PromQL query of the dashboard, and where it sits. */
export interface DashboardQuery {
  where: string;
  expr: string;
}

/** Every panel target's query. */
export function panelQueries(dashboard: Dashboard): DashboardQuery[] {
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((t) => ({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr })),
  );
}

/** A query variable's `label_values(<selector>, <label>)`, Grafana's call for a label's values. */
export interface LabelValuesQuery {
  variable: string;
  selector: string;
  label: string;
}

export function variableQueries(dashboard: Dashboard): LabelValuesQuery[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const text = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
      if (!m) throw new Error(`variable ${v.name}: not a label_values() query: ${text}`);
      return { variable: v.name, selector: m[1]!, label: m[2]! };
    });
}

/**
 * A query as Grafana sends it: its `$variables` replaced by `values` (dashboard variables and
 * Grafana's own `$__rate_interval`, `$__range`). An unknown variable throws.
 */
export function interpolate(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

/** A literal for a PromQL `=~` string: regex metacharacters escaped, and the backslashes too. */
export function promRegexLiteral(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\\\${c}`);
}
