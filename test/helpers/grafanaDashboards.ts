import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.js';

/** The parts of Grafana's dashboard JSON the tests read. */
export interface Target { refId?: string; expr?: string; datasource?: { type?: string; uid?: string }; exemplar?: boolean; format?: string }
export interface Panel {
  id?: number; type: string; title: string; datasource?: { type?: string; uid?: string }; gridPos?: { x: number; y: number; w: number; h: number }; targets?: Target[]; panels?: Panel[];
  links?: { title: string; url: string }[];
  fieldConfig?: { defaults?: { links?: { title: string; url: string }[] }; overrides?: { matcher: { id: string; options?: unknown }; properties: { id: string; value?: unknown }[] }[] };
}
export interface Variable { name: string; type: string; query?: string | { query: string }; includeAll?: boolean; allValue?: string; datasource?: { uid?: string } }
export interface Dashboard {
  uid: string; title: string; schemaVersion: number; panels: Panel[];
  __inputs?: { name: string; type: string; pluginId: string }[];
  __requires?: { type: string; id: string }[]; templating?: { list: Variable[] }; annotations?: { list: { name: string; expr?: string; datasource?: { uid?: string } }[] } }

export const DASHBOARD_DIR = path.join(ROOT, 'grafana/dashboards');

export function loadDashboards(): { file: string; d: Dashboard }[] {
  return readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort().map((file) => ({ file, d: JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as Dashboard }));
}

/** Every panel, rows' nested panels included, rows themselves too. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface Query { where: string; expr: string; exemplar: boolean; /** annotations only need to parse */ needsData: boolean }

/** Every PromQL expression of a dashboard: panel targets and annotation queries. */
export function queriesOf(d: Dashboard): Query[] {
  const out: Query[] = [];
  for (const p of allPanels(d)) for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr, exemplar: Boolean(t.exemplar), needsData: true });
  for (const a of d.annotations?.list ?? []) if (a.expr) out.push({ where: `${d.uid} / annotation ${a.name}`, expr: a.expr, exemplar: false, needsData: false });
  return out;
}

/** Grafana's built-in interval variables, as a 1 s scrape needs them. */
export const BUILTINS: Record<string, string> = { __rate_interval: '1m', __interval: '5s', __range: '5m', __range_s: '300', __interval_ms: '5000' };

/** Replaces `$name`, `${name}` and `[[name]]` with values (longest names first, so `$role` does not eat `$roles`). */
export function substitute(expr: string, values: Record<string, string>): string {
  let out = expr;
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    const v = values[name] as string;
    out = out.replaceAll(`\${${name}}`, v).replaceAll(`[[${name}]]`, v).replace(new RegExp(`\\$${name}(?![A-Za-z0-9_])`, 'g'), () => v);
  }
  return out;
}

/** Metric names an expression reads: identifiers with our prefixes, recording rules, ALERTS and up. */
export function metricNames(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = noStrings.match(/\b(?:agentic[_:][A-Za-z0-9_:]*|ALERTS(?:_FOR_STATE)?|process_[a-z_]+|nodejs_[a-z_]+)\b/g) ?? [];
  return [...new Set(names)];
}

/** The query string of a variable (`label_values(...)`), in either JSON shape Grafana writes. */
export const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : v.query?.query ?? '');
