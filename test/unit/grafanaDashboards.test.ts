import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allPanels, loadDashboards, type Dashboard, type Panel } from '../helpers/grafanaDashboards.js';
import { datasourceProblems, detailLinkProblems, inputProblems, layoutProblems, linksOf, runbookProblems } from '../helpers/grafanaLint.js';
import { checkWithSdkTypes, TYPE_CORRECTIONS, type TypeCorrection } from '../helpers/grafanaSdkTypes.js';
import { ROOT } from '../helpers/harness.js';

/**
 * The dashboards are checked against Grafana's published dashboard schema, the
 * generated TypeScript types of the Grafana Foundation SDK for Grafana 10.4 (npm,
 * a devDependency), compiled in memory with the TypeScript compiler; and against
 * what the schema cannot know: the datasource variable, links into the detail
 * dashboard, the grid, import inputs and the alert rules' runbook URLs. Every check
 * is shown to fail on a broken copy.
 */

const dashboards = loadDashboards();
const byFile = (f: string): Dashboard => structuredClone(dashboards.find((x) => x.file === f)?.d) as Dashboard;
const overview = (): Dashboard => byFile('agents-overview.json');
const detail = (): Dashboard => byFile('agent-detail.json');
const panelTitled = (d: Dashboard, title: string): Panel => allPanels(d).find((p) => p.title === title) as Panel;
const indexOf = (d: Dashboard, title: string): number => d.panels.findIndex((p) => p.title === title);
const HEALTH_TABLE = 'Which agent is unhealthy, and why';
type Loose = Record<string, unknown> & { options: Record<string, unknown>; fieldConfig: { defaults: Record<string, unknown> & { custom: Record<string, unknown>; thresholds: { mode: string; steps: Record<string, unknown>[] } } } };
const loose = (d: Dashboard, i: number): Loose => d.panels[i] as unknown as Loose;

/** Broken copies, each checked in the same program as the real dashboards (one compilation for all). */
const broken = {
  misspelt: (() => {
    const d = overview() as Dashboard & Record<string, unknown>;
    d.templateing = d.templating;
    const ts = loose(d, indexOf(d, 'Queue depth by role'));
    (ts.options.legend as Record<string, unknown>).showLegned = true;
    return d;
  })(),
  wrongType: (() => {
    const d = overview();
    (d.panels[indexOf(d, 'Capacity by role')]?.gridPos as unknown as { w: unknown }).w = '12';
    const t = loose(d, indexOf(d, 'Stuck tasks')).fieldConfig.defaults.thresholds;
    t.mode = 'absolut';
    t.steps[1] = { value: 1, colour: 'red' };
    (d.templating?.list[1] as { type: string }).type = 'dropdown';
    return d;
  })(),
  wrongPlugin: (() => {
    const d = overview();
    loose(d, indexOf(d, 'Queue depth by role')).options.graphMode = 'area';
    loose(d, indexOf(d, HEALTH_TABLE)).fieldConfig.defaults.custom.lineWidth = 2;
    (d.panels[indexOf(d, 'Stuck tasks')] as { type: string }).type = 'singlestat';
    return d;
  })(),
  structure: (() => {
    const d = detail();
    const row = d.panels.findIndex((p) => p.type === 'row');
    delete (d.panels[row] as { panels?: unknown }).panels;
    const t = indexOf(overview(), HEALTH_TABLE);
    const o = overview();
    delete (o.panels[t]?.fieldConfig?.defaults?.links?.[0] as { url?: string }).url;
    const vars = o.templating?.list as unknown as Record<string, unknown>[];
    (vars[0] as Record<string, unknown>).current = {};
    return { detail: d, row, overview: o, table: t };
  })(),
};
/** A correction the SDK does not need (its type accepts the witness): the check must report it as no longer applying. */
const STALE: TypeCorrection = { name: 'stale (test only)', because: 'a target with refId and expr is a valid Prometheus dataquery already', witness: '{ "refId": "A", "expr": "up" }', sdk: 'C.Target', corrected: 'Target' };
const result = checkWithSdkTypes(new Map<string, unknown>([
  ...dashboards.map(({ file, d }) => [file, d] as const),
  ['misspelt', broken.misspelt], ['wrongType', broken.wrongType], ['wrongPlugin', broken.wrongPlugin],
  ['rowWithoutPanels', broken.structure.detail], ['linkWithoutUrl', broken.structure.overview],
]), [...TYPE_CORRECTIONS, STALE]);
const problems = (name: string): string[] => result.problems.get(name) ?? [];

describe("Grafana's dashboard schema (the Foundation SDK's types for Grafana 10.4)", () => {
  it.each(dashboards)('$file is valid', ({ file }) => {
    expect(problems(file)).toEqual([]);
  });

  it.each(TYPE_CORRECTIONS)('correction "$name" still applies: the SDK type rejects what Grafana 10.4 writes, the corrected one accepts it', (c) => {
    expect(c.because.length).toBeGreaterThan(40);
    expect(result.corrections.get(c.name)).toEqual({ sdkRejects: true, correctedAccepts: true });
  });

  it('a correction the SDK no longer needs is reported as not applying', () => {
    expect(result.corrections.get(STALE.name)).toEqual({ sdkRejects: false, correctedAccepts: true });
  });

  it('rejects a misspelt key, at the top and in a plugin option, naming the path', () => {
    const i = indexOf(broken.misspelt, 'Queue depth by role');
    expect(problems('misspelt')).toHaveLength(2);
    expect(problems('misspelt')).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/templateing: Object literal may only specify known properties, and '"templateing"' does not exist/),
      expect.stringMatching(new RegExp(`^/panels/${i}/options/legend/showLegned \\(Queue depth by role\\): Object literal may only specify known properties, and '"showLegned"' does not exist`)),
    ]));
  });

  it('rejects a wrong type, an unknown enum value, a threshold step without a colour and an unknown variable type', () => {
    const d = broken.wrongType;
    const cap = indexOf(d, 'Capacity by role');
    const stuck = indexOf(d, 'Stuck tasks');
    const p = problems('wrongType');
    expect(p).toContain(`/panels/${cap}/gridPos/w (Capacity by role): Type 'string' is not assignable to type 'number'.`);
    expect(p).toContainEqual(expect.stringMatching(new RegExp(`^/panels/${stuck}/fieldConfig/defaults/thresholds/mode \\(Stuck tasks\\): Type '"absolut"' is not assignable to type '"absolute" \\| "percentage"'`)));
    expect(p).toContainEqual(expect.stringMatching(new RegExp(`^/panels/${stuck}/fieldConfig/defaults/thresholds/steps/1/colour \\(Stuck tasks\\): Object literal may only specify known properties, and '"colour"' does not exist`)));
    expect(p).toContainEqual(expect.stringMatching(/^\/templating\/list\/1\/type: Type '"dropdown"' is not assignable to type '"datasource" \| "query" \| .*"custom"/));
    expect(p).toHaveLength(4);
  });

  it("rejects an option of another plugin, a custom field option the plugin does not have, and a panel type the SDK does not know", () => {
    const d = broken.wrongPlugin;
    const ts = indexOf(d, 'Queue depth by role');
    const table = indexOf(d, HEALTH_TABLE);
    const stuck = indexOf(d, 'Stuck tasks');
    expect(problems('wrongPlugin')).toHaveLength(3);
    expect(problems('wrongPlugin')).toEqual(expect.arrayContaining([
      `/panels/${stuck}/type (Stuck tasks): no SDK type for panel type "singlestat" (add it to PLUGINS)`,
      expect.stringMatching(new RegExp(`^/panels/${ts}/options/graphMode \\(Queue depth by role\\): Object literal may only specify known properties, and '"graphMode"' does not exist`)),
      expect.stringMatching(new RegExp(`^/panels/${table}/fieldConfig/defaults/custom/lineWidth \\(${HEALTH_TABLE}\\): Object literal may only specify known properties, and '"lineWidth"' does not exist`)),
    ]));
  });

  it('rejects a row without its panels list, a data link without a url and a variable whose current value is {}', () => {
    const { detail: d, row, table } = broken.structure;
    expect(problems('rowWithoutPanels')).toEqual([expect.stringMatching(new RegExp(`^/panels/${row} \\(${d.panels[row]?.title}\\): Type .* does not satisfy the expected type 'Row'\\.\\s+Property 'panels' is missing`))]);
    expect(problems('linkWithoutUrl')).toEqual([expect.stringMatching(new RegExp(`^/panels/${table}/fieldConfig/defaults/links/0 \\(${HEALTH_TABLE}\\): Property 'url' is missing`)),
      expect.stringMatching(/^\/templating\/list\/0\/current: Type '\{\}' is missing the following properties from type .*: text, value/),
    ]);
  });
});

describe('what the schema cannot check', () => {
  it.each(dashboards)('$file: every panel, target, variable and annotation reads ${datasource}; ids are unique; the grid does not overlap; every import input is used', ({ d }) => {
    expect(datasourceProblems(d)).toEqual([]);
    expect(layoutProblems(d)).toEqual([]);
    expect(inputProblems(d)).toEqual([]);
  });

  it('every link into the detail dashboard carries the datasource, supervisor, agent and time range, and only its variables', () => {
    const d = overview();
    const links = allPanels(d).flatMap(linksOf).filter((l) => l.url.includes(`/d/${detail().uid}/`));
    expect(links.length).toBeGreaterThan(0);
    expect(detailLinkProblems(d, detail())).toEqual([]);
    expect(detailLinkProblems(detail(), detail())).toEqual([]);
  });

  it('a hard-coded datasource uid is caught, on a panel and on a target', () => {
    const d = overview();
    const p = panelTitled(d, 'Stuck tasks');
    p.datasource = { type: 'prometheus', uid: 'prometheus' };
    (p.targets?.[0] as { datasource: { uid: string } }).datasource.uid = 'PBFA97CFB590B2093';
    expect(datasourceProblems(d)).toEqual([
      `panel ${p.id} "Stuck tasks": datasource uid prometheus, expected \${datasource}`,
      `panel ${p.id} "Stuck tasks" target A: datasource uid PBFA97CFB590B2093, expected \${datasource}`,
    ]);
  });

  it('a repeated panel id and an overlapping panel are caught', () => {
    const d = overview();
    const stuck = panelTitled(d, 'Stuck tasks');
    const table = panelTitled(d, HEALTH_TABLE);
    stuck.id = table.id;
    (stuck.gridPos as { x: number }).x = 16;
    const problems = layoutProblems(d);
    expect(problems).toContain(`panel "Stuck tasks": id ${table.id} already used by "${HEALTH_TABLE}"`);
    expect(problems).toContain(`panel "Stuck tasks" (x 16, y 12, w 6, h 9) overlaps "${HEALTH_TABLE}"`);
  });

  it('a link into the detail dashboard that drops the supervisor or sets a variable it does not have is caught', () => {
    const d = overview();
    const table = panelTitled(d, HEALTH_TABLE);
    const link = table.fieldConfig?.defaults?.links?.[0] as { title: string; url: string };
    link.url = link.url.replace(/var-instance=[^&]*&/, 'var-host=x&');
    expect(detailLinkProblems(d, detail())).toEqual([
      `panel ${table.id} "${HEALTH_TABLE}": link "${link.title}" lacks var-instance=`,
      `panel ${table.id} "${HEALTH_TABLE}": link "${link.title}" sets var-host, which agentic-agent-detail does not have`,
    ]);
  });

  it('an import input used nowhere is caught', () => {
    const d = overview();
    d.__inputs = [...(d.__inputs ?? []), { name: 'DS_LOKI', type: 'datasource', pluginId: 'loki' }];
    expect(inputProblems(d)).toEqual(['__inputs DS_LOKI is referenced nowhere in the dashboard']);
  });

  describe('runbook URLs of the alert rules', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runbooks-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const rules = readdirSync(path.join(ROOT, 'prometheus/rules')).filter((f) => f.endsWith('.yml')).map((f) => path.join(ROOT, 'prometheus/rules', f));

    it('are absolute in prometheus/rules', () => {
      expect(rules.length).toBeGreaterThan(0);
      expect(runbookProblems(rules)).toEqual([]);
    });

    it('a relative or missing one is caught', () => {
      const f = path.join(dir, 'bad.rules.yml');
      writeFileSync(f, [
        'groups:', '  - name: g', '    rules:',
        '      - alert: Relative', '        expr: vector(1)', '        annotations: { runbook_url: "docs/alerting.md#relative" }',
        '      - alert: Missing', '        expr: vector(1)',
        '      - record: not:an_alert', '        expr: vector(1)',
      ].join('\n'));
      expect(runbookProblems([f])).toEqual([
        `${f}: alert Relative: runbook_url "docs/alerting.md#relative" is not an absolute http(s) URL`,
        `${f}: alert Missing: runbook_url undefined is not an absolute http(s) URL`,
      ]);
    });
  });
});
