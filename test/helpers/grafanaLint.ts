import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { allPanels, type Dashboard, type Panel } from './grafanaDashboards.js';

/**
 * What Grafana's schema cannot check about our dashboards and rules. Each check
 * returns one line per problem (empty when all is well), so a test can show that
 * a broken copy is caught.
 */

/** Every query names the dashboard's datasource variable, never the uid of one installation. */
export const DS_UID = '${datasource}';

/** Every non-row panel, each of its targets, every query variable and every annotation query reads `${datasource}`. */
export function datasourceProblems(d: Dashboard): string[] {
  const out: string[] = [];
  for (const p of allPanels(d).filter((x) => x.type !== 'row')) {
    if (p.datasource?.uid !== DS_UID) out.push(`panel ${p.id} "${p.title}": datasource uid ${String(p.datasource?.uid)}, expected ${DS_UID}`);
    if (!p.targets?.length) out.push(`panel ${p.id} "${p.title}": no targets`);
    for (const t of p.targets ?? []) if (t.datasource?.uid !== DS_UID) out.push(`panel ${p.id} "${p.title}" target ${String(t.refId)}: datasource uid ${String(t.datasource?.uid)}, expected ${DS_UID}`);
    const refIds = (p.targets ?? []).map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) out.push(`panel ${p.id} "${p.title}": refIds repeat (${refIds.join(', ')})`);
  }
  for (const v of d.templating?.list ?? []) if (v.type === 'query' && v.datasource?.uid !== DS_UID) out.push(`variable ${v.name}: datasource uid ${String(v.datasource?.uid)}, expected ${DS_UID}`);
  for (const a of d.annotations?.list ?? []) if (a.expr && a.datasource?.uid !== DS_UID) out.push(`annotation ${a.name}: datasource uid ${String(a.datasource?.uid)}, expected ${DS_UID}`);
  return out;
}

/** Panel ids are integers and unique; panels sit on the 24-column grid without overlapping. */
export function layoutProblems(d: Dashboard): string[] {
  const out: string[] = [];
  const seen = new Map<number, string>();
  const cells = new Map<string, string>();
  for (const p of allPanels(d)) {
    if (!Number.isInteger(p.id)) out.push(`panel "${p.title}": id ${String(p.id)} is not an integer`);
    else if (seen.has(p.id as number)) out.push(`panel "${p.title}": id ${p.id} already used by "${seen.get(p.id as number)}"`);
    else seen.set(p.id as number, p.title);
    const g = p.gridPos;
    if (!g) { out.push(`panel "${p.title}": no gridPos`); continue; }
    if (g.x < 0 || g.w < 1 || g.x + g.w > 24) out.push(`panel "${p.title}": x ${g.x} + w ${g.w} leaves the 24-column grid`);
    const hit = new Set<string>();
    for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
      const other = cells.get(`${x},${y}`);
      if (other !== undefined) hit.add(other);
      cells.set(`${x},${y}`, p.title);
    }
    for (const other of hit) out.push(`panel "${p.title}" (x ${g.x}, y ${g.y}, w ${g.w}, h ${g.h}) overlaps "${other}"`);
  }
  return out;
}

/** Every link a panel carries: panel links, field links, and links set by field overrides. */
export function linksOf(p: Panel): { title: string; url: string }[] {
  const overrides = (p.fieldConfig?.overrides ?? []).flatMap((o) => o.properties.filter((x) => x.id === 'links').flatMap((x) => (Array.isArray(x.value) ? (x.value as { title: string; url: string }[]) : [])));
  return [...(p.links ?? []), ...(p.fieldConfig?.defaults?.links ?? []), ...overrides];
}

/** What a link into the detail dashboard must carry, besides one `var-` for each of the variables it names. */
export const DETAIL_LINK_PARTS = ['var-datasource=${datasource}', 'var-instance=', 'var-agent=', '${__url_time_range}'];

/**
 * Every link into the detail dashboard keeps the datasource, names the supervisor
 * and the agent, keeps the time range, and sets only variables the detail
 * dashboard has.
 */
export function detailLinkProblems(d: Dashboard, detail: Dashboard): string[] {
  const out: string[] = [];
  const vars = new Set((detail.templating?.list ?? []).map((v) => v.name));
  for (const p of allPanels(d)) for (const l of linksOf(p)) {
    if (!l.url.includes(`/d/${detail.uid}/`)) continue;
    for (const part of DETAIL_LINK_PARTS) if (!l.url.includes(part)) out.push(`panel ${p.id} "${p.title}": link "${l.title}" lacks ${part}`);
    for (const [, name] of l.url.matchAll(/[?&]var-([A-Za-z0-9_]+)=/g)) if (!vars.has(name as string)) out.push(`panel ${p.id} "${p.title}": link "${l.title}" sets var-${name}, which ${detail.uid} does not have`);
  }
  return out;
}

/** Every `__inputs` entry is used as `${NAME}` somewhere in the dashboard: an unused input is an import picker that changes nothing. */
export function inputProblems(d: Dashboard): string[] {
  const body = JSON.stringify({ ...d, __inputs: undefined });
  return (d.__inputs ?? []).filter((i) => !body.includes(`\${${i.name}}`)).map((i) => `__inputs ${i.name} is referenced nowhere in the dashboard`);
}

/** Every alert's `runbook_url` is an absolute http(s) URL (clickable from Alertmanager, email and chat). */
export function runbookProblems(ruleFiles: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of ruleFiles) {
    const doc = parse(readFileSync(f, 'utf8')) as { groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[] };
    for (const r of doc.groups.flatMap((g) => g.rules)) {
      if (!r.alert) continue;
      const url = r.annotations?.runbook_url;
      let ok = false;
      try { ok = url !== undefined && /^https?:$/.test(new URL(url).protocol); } catch { ok = false; }
      if (!ok) out.push(`${f}: alert ${r.alert}: runbook_url ${JSON.stringify(url)} is not an absolute http(s) URL`);
    }
  }
  return out;
}
