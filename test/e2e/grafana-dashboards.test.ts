import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allPanels, BUILTINS, loadDashboards, metricNames, queriesOf, substitute, variableQuery, type Dashboard, type Panel, type Query } from '../helpers/grafanaDashboards.js';
import { datasourceProblems, layoutProblems } from '../helpers/grafanaLint.js';
import { cleanup, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startPrometheus, type RealPrometheus } from '../helpers/realPrometheus.js';

/**
 * The Grafana dashboards are real: their JSON is well formed, and every query
 * in them runs on a real Prometheus 2.42 scraping a real supervisor, parses,
 * and returns data for the agents of this fleet.
 */

/** Every query names the dashboard's datasource variable, never a uid of one installation. */
const DS_UID = '${datasource}';
/** The uid the provisioned Prometheus datasource has (grafana/provisioning). */
const PROVISIONED_UID = 'prometheus';
const dashboards = loadDashboards();
const catalog = readFileSync(path.join(ROOT, 'docs/metrics.md'), 'utf8');
const rules = readdirSync(path.join(ROOT, 'prometheus/rules')).filter((f) => f.endsWith('.yml')).map((f) => path.join(ROOT, 'prometheus/rules', f));
const recorded = new Set(rules.flatMap((f) => ((parse(readFileSync(f, 'utf8')) as { groups: { rules: { record?: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.record)))).filter(Boolean));
const GARBLER = "const s = new (require('node:net').Socket)({ fd: Number(process.env.AGENTIC_PROTOCOL_FD), readable: true, writable: true }); s.write('this is not json\\n'); setInterval(() => {}, 1000);";

/** Metrics the dashboards read that the supervisor, scraped by Prometheus, did not export (recording rules count as exported). */
function unexported(ds: readonly Dashboard[], exported: ReadonlySet<string>): string[] {
  return ds.flatMap((d) => queriesOf(d).flatMap((q) => metricNames(q.expr).filter((m) => !exported.has(m)).map((m) => `${q.where}: ${m}`)));
}

describe('dashboard JSON', () => {
  it('has two dashboards with unique uids and a schemaVersion', () => {
    expect(dashboards.map((x) => x.file)).toEqual(['agent-detail.json', 'agents-overview.json']);
    expect(new Set(dashboards.map((x) => x.d.uid)).size).toBe(2);
    for (const { d } of dashboards) expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
  });

  it.each(dashboards)('$file: panel ids are unique, panels sit on the 24-column grid without overlapping (test/helpers/grafanaLint.ts)', ({ d }) => {
    expect(layoutProblems(d)).toEqual([]);
  });

  it.each(dashboards)('$file: imports cleanly: a datasource variable, __inputs and __requires, and no hard-coded datasource uid', ({ file, d }) => {
    const vars = d.templating?.list ?? [];
    expect(vars[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    expect(d.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(d.__requires?.map((r) => `${r.type}:${r.id}`)).toEqual(expect.arrayContaining(['grafana:grafana', 'datasource:prometheus']));
    const used = new Set(allPanels(d).map((p) => p.type).filter((t) => t !== 'row'));
    for (const t of used) expect(d.__requires?.some((r) => r.type === 'panel' && r.id === t), `${file}: __requires lists panel ${t}`).toBe(true);
    const text = readFileSync(path.join(ROOT, 'grafana/dashboards', file), 'utf8');
    expect(text).not.toMatch(/"uid":\s*"prometheus"/);
  });

  it.each(dashboards)('$file: every panel, target, variable and annotation uses the ${datasource} variable', ({ d }) => {
    expect(datasourceProblems(d)).toEqual([]);
    expect(PROVISIONED_UID).not.toBe(DS_UID);
  });

  it.each(dashboards)('$file: reads only metrics of docs/metrics.md, recording rules or ALERTS', ({ d }) => {
    for (const q of queriesOf(d)) for (const m of metricNames(q.expr)) {
      const base = m.replace(/_(bucket|sum|count)$/, '');
      const known = catalog.includes(`\`${m}\``) || catalog.includes(`\`${base}\``) || recorded.has(m) || m === 'ALERTS';
      expect(known, `${q.where}: ${m} is not in docs/metrics.md`).toBe(true);
    }
  });

  it('the agent detail dashboard is templated by $agent', () => {
    const detail = dashboards.find((x) => x.file === 'agent-detail.json')?.d as Dashboard;
    expect(detail.templating?.list.map((v) => v.name)).toContain('agent');
    expect(queriesOf(detail).filter((q) => q.expr.includes('$agent')).length).toBeGreaterThan(10);
  });

  it.each(dashboards)('$file: every p50/p95 panel shows p99 too', ({ d }) => {
    for (const p of allPanels(d)) {
      const exprs = (p.targets ?? []).map((t) => t.expr ?? '');
      if (!exprs.some((e) => e.includes('histogram_quantile(0.95'))) continue;
      expect(exprs.some((e) => e.includes('histogram_quantile(0.99')), `${p.title} has no p99`).toBe(true);
      expect(exprs.some((e) => e.includes('histogram_quantile(0.5')), `${p.title} has no p50`).toBe(true);
    }
  });

  it('the overview names the unhealthy agent and why, links it to its detail dashboard, and counts stuck tasks', () => {
    const overview = dashboards.find((x) => x.file === 'agents-overview.json')?.d as Dashboard;
    const detail = dashboards.find((x) => x.file === 'agent-detail.json')?.d as Dashboard;
    const table = allPanels(overview).find((p) => p.type === 'table' && (p.targets ?? []).some((t) => t.expr?.includes('agentic_agent_health_status')));
    expect(table, 'a table of agents by health').toBeDefined();
    expect(table?.targets?.[0]?.expr).toMatch(/max by \(instance, agent, check\)/);
    const links = table?.fieldConfig?.defaults?.links ?? [];
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) {
      expect(l.url).toContain(`/d/${detail.uid}/`);
      for (const v of ['var-agent=${__data.fields.agent}', 'var-datasource=${datasource}', 'var-instance=${__data.fields.supervisor}', '${__url_time_range}']) expect(l.url).toContain(v);
    }
    // the link's variables are the detail dashboard's
    for (const v of ['agent', 'instance', 'datasource']) expect(detail.templating?.list.map((x) => x.name)).toContain(v);
    const stuck = allPanels(overview).find((p) => p.title === 'Stuck tasks');
    expect(stuck?.targets?.[0]?.expr).toMatch(/check="task_progress"/);
  });

  it('provisioning points Grafana at the prometheus uid, traces at jaeger, and loads the dashboard folder', () => {
    const ds = parse(readFileSync(path.join(ROOT, 'grafana/provisioning/datasources/agentic.yml'), 'utf8')) as { datasources: { uid: string; type: string; jsonData?: { exemplarTraceIdDestinations?: { datasourceUid: string }[] } }[] };
    const byUid = new Map(ds.datasources.map((x) => [x.uid, x]));
    expect(byUid.get(PROVISIONED_UID)?.type).toBe('prometheus');
    for (const dest of byUid.get(PROVISIONED_UID)?.jsonData?.exemplarTraceIdDestinations ?? []) expect(byUid.has(dest.datasourceUid)).toBe(true);
    expect(byUid.get('jaeger')?.type).toBe('jaeger');
    const prov = parse(readFileSync(path.join(ROOT, 'grafana/provisioning/dashboards/agentic.yml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    expect(prov.providers[0]?.type).toBe('file');
    expect(prov.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
  });
});

describe('dashboard queries on a real Prometheus scraping a real supervisor', () => {
  let sup: RunningSupervisor;
  let prom: RealPrometheus;
  let exported: Set<string>;

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: { check_interval: 1, sample_interval: 1, recovery: { restart_attempts: 2, base_delay: 0.2, jitter: 0 } },
      // a budget for the per_task role, so the LLM budget panels have a series to read
      llm: { budgets: { roles: [{ role: 'deva_ts', per_hour_usd: 50, per_day_usd: 500 }] } },
      agents: [
        { name: 'worker', command: ['node', path.join(ROOT, 'test/fixtures/agents/worker.mjs')], replicas: 2, heartbeat_interval: 1 },
        // crashes at once, every time: restarts, then an escalation
        { name: 'crashy', command: ['node', path.join(ROOT, 'test/fixtures/agents/worker.mjs')], env: { WORKER_CRASH_ON_START: '1' } },
        // writes one line that is not JSON on the protocol channel: a protocol error
        { name: 'garbler', command: ['node', '-e', GARBLER] },
        // an agent on the Node SDK: the only kind that reports its V8 heap (agentic_agent_heap_used_bytes); it gets no task
        { name: 'sdkagent', command: ['node', path.join(ROOT, 'test/fixtures/agents/taskAgent.mjs')], heartbeat_interval: 1 },
        // a per_task role that never gets a task: idle and healthy, its capacity must read 100 %
        { name: 'poa', mode: 'per_task', command: ['node', path.join(ROOT, 'examples/agents/fake-claude.mjs'), '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], max_concurrent: 3, stdout_adapter: 'claude-stream-json' },
        { name: 'deva_ts', mode: 'per_task', command: ['node', path.join(ROOT, 'examples/agents/fake-claude.mjs'), '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], max_concurrent: 2, stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '20' } },
      ],
    });
    const submit = (body: Record<string, unknown>) => sup.api('POST', '/api/v1/tasks', body);
    for (let i = 0; i < 4; i++) expect((await submit({ role: 'worker', title: `work ${i}`, payload: { work_ms: 300 + i * 200 } })).status).toBe(201);
    expect((await submit({ role: 'worker', title: 'fails for good', payload: { fail: true, permanent: true } })).status).toBe(201);
    for (let i = 0; i < 2; i++) expect((await submit({ role: 'deva_ts', title: `story ${i}`, prompt: `Add coupon validation ${i}` })).status).toBe(201);
    // an Alertmanager webhook without its token: refused, and counted by status code
    expect((await fetch(`${sup.url}/api/v1/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const target = new URL(sup.url).host;
    prom = await startPrometheus({
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: rules,
      scrape_configs: [{ job_name: 'agentic-supervisor', metrics_path: '/metrics', static_configs: [{ targets: [target], labels: { host: 'test' } }] }],
    }, ['--enable-feature=exemplar-storage']);
    await waitFor('the tasks to finish', async () => {
      const { body } = await sup.api<{ tasks: { status: string }[] }>('GET', '/api/v1/tasks?limit=50');
      return body.tasks.length === 7 && body.tasks.every((t) => t.status === 'completed' || t.status === 'failed');
    }, 60_000);
    await waitFor('12 scrapes and an escalation in Prometheus', async () => {
      const scrapes = await prom.query('count_over_time(up{job="agentic-supervisor"}[1m]) >= 12 and up == 1');
      const esc = await prom.query('agentic_escalations_total');
      return (scrapes.data?.result.length ?? 0) > 0 && (esc.data?.result.length ?? 0) > 0;
    }, 60_000, 500);
    exported = new Set(await prom.labelValues('__name__'));
  }, 150_000);

  afterAll(async () => {
    await prom?.stop();
    cleanup(sup);
  });

  /** The variable values Grafana could pick: `.*` for All, else every value of its label_values() query. */
  async function combos(d: Dashboard): Promise<Record<string, string>[]> {
    let out: Record<string, string>[] = [{ ...BUILTINS }];
    for (const v of d.templating?.list ?? []) {
      const next: Record<string, string>[] = [];
      if (v.type === 'datasource') continue; // names the datasource, read by no query
      for (const c of out) {
        if (v.includeAll) { next.push({ ...c, [v.name]: v.allValue ?? '.*' }); continue; }
        const m = /^label_values\((?:(.*),\s*)?([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(substitute(variableQuery(v), c).trim());
        expect(m, `variable ${v.name}: ${variableQuery(v)}`).not.toBeNull();
        const values = await prom.labelValues(m?.[2] as string, m?.[1]);
        expect(values.length, `variable ${v.name} has no values`).toBeGreaterThan(0);
        for (const value of values.slice(0, 8)) next.push({ ...c, [v.name]: value });
      }
      out = next;
    }
    return out;
  }

  /** Runs one query for every combination; returns what went wrong (nothing when all is well). */
  async function problems(q: Query, all: Record<string, string>[]): Promise<string[]> {
    const errors: string[] = [];
    let withData = 0;
    for (const c of all) {
      const expr = substitute(q.expr, c);
      if (/\$|\[\[/.test(expr.replace(/"[^"]*"/g, '""').replace(/\{\{[^}]*\}\}/g, ''))) errors.push(`${q.where}: unsubstituted variable in ${expr}`);
      const r = await prom.query(expr);
      if (r.status !== 'success') errors.push(`${q.where}: ${r.errorType}: ${r.error}\n  ${expr}`);
      else if ((r.data?.result.length ?? 0) > 0) withData++;
    }
    const missing = metricNames(q.expr).filter((m) => !exported.has(m));
    if (q.needsData && withData === 0) errors.push(`${q.where}: no data for any of ${all.length} variable combinations${missing.length ? ` (not exported: ${missing.join(', ')})` : ''}\n  ${q.expr}`);
    return errors;
  }

  it('a broken query fails the check (the check can fail)', async () => {
    const all = [{ ...BUILTINS }];
    expect((await problems({ where: 'broken', expr: 'sum by (agent) (agentic_agent_up{agent="x"', exemplar: false, needsData: true }, all))[0]).toMatch(/broken: bad_data/);
    expect((await problems({ where: 'typo', expr: 'agentic_agent_upp', exemplar: false, needsData: true }, all))[0]).toMatch(/typo: no data/);
  });

  it('every metric a panel reads is exported by the supervisor (or a recording rule), with no exception', () => {
    expect(unexported(dashboards.map((x) => x.d), exported)).toEqual([]);
  });

  it('a panel reading a metric that /metrics no longer exports fails that check', () => {
    const copy = structuredClone(dashboards.find((x) => x.file === 'agents-overview.json')?.d) as Dashboard;
    const llm = allPanels(copy).find((p) => p.title === 'LLM tokens per minute');
    const target = llm?.targets?.[0] as { expr: string };
    expect(target.expr).toContain('agentic_llm_tokens_total');
    target.expr = target.expr.replace('agentic_llm_tokens_total', 'agentic_llm_token_usage_total');
    expect(unexported([copy], exported)).toEqual([`${copy.uid} / LLM tokens per minute / ${llm?.targets?.[0]?.refId}: agentic_llm_token_usage_total`]);
  });

  it.each(dashboards)('$file: every query parses and returns data', async ({ d }) => {
    const all = await combos(d);
    const errors: string[] = [];
    for (const q of queriesOf(d)) errors.push(...(await problems(q, all)));
    expect(errors).toEqual([]);
  });

  it('the health table has a row per agent of the fleet, crashy among the unhealthy with its failing check', async () => {
    const overview = dashboards.find((x) => x.file === 'agents-overview.json')?.d as Dashboard;
    const table = allPanels(overview).find((p) => p.title === 'Which agent is unhealthy, and why');
    const expr = substitute(table?.targets?.[0]?.expr ?? '', { ...BUILTINS, instance: '.*', role: '.*' });
    const r = await prom.query(expr);
    const rows = (r.data?.result ?? []) as unknown as { metric: Record<string, string>; value: [number, string] }[];
    const agents = [...new Set(rows.map((x) => x.metric.agent))].sort();
    expect(agents).toEqual(['crashy', 'deva_ts', 'garbler', 'poa', 'sdkagent', 'worker']);
    const crashy = rows.filter((x) => x.metric.agent === 'crashy');
    expect(crashy.length).toBeGreaterThan(0);
    for (const x of crashy) {
      expect(Number(x.value[1])).toBeGreaterThan(0);
      expect(['agent_response', 'resource_usage', 'task_progress', 'memory_leaks', 'connectivity']).toContain(x.metric.check);
    }
    for (const x of rows.filter((y) => Number(y.value[1]) === 0)) expect(x.metric.check).toBe('-');
  });

  it('capacity by role reads an idle, healthy per_task role as 100 % and green, not 0 % red, whether or not it has run', async () => {
    const overview = dashboards.find((x) => x.file === 'agents-overview.json')?.d as Dashboard;
    const cap = allPanels(overview).find((p) => p.title === 'Capacity by role') as Panel;
    const r = await prom.query(substitute(cap.targets?.[0]?.expr ?? '', { ...BUILTINS, instance: '.*', role: '.*' }));
    const byRole = new Map(((r.data?.result ?? []) as unknown as { metric: { role: string }; value: [number, string] }[]).map((x) => [x.metric.role, Number(x.value[1])]));
    const steps = (cap as unknown as { fieldConfig: { defaults: { thresholds: { steps: { color: string; value: number | null }[] } } } }).fieldConfig.defaults.thresholds.steps;
    /** The colour Grafana paints a value: the last step whose value it reaches (the first step, value null, is the base). */
    const colour = (v: number | undefined) => steps.filter((st) => st.value === null || (v ?? NaN) >= st.value).at(-1)?.color;
    // deva_ts ran two stories and is idle now; poa never got a task; sdkagent and worker are service roles with every replica up
    for (const role of ['deva_ts', 'poa', 'sdkagent', 'worker']) {
      expect(byRole.get(role), role).toBe(1);
      expect(colour(byRole.get(role)), role).toBe('green');
    }
    expect(byRole.get('crashy')).toBeLessThan(1);
    expect(colour(byRole.get('crashy'))).not.toBe('green');
  });

  it('the task- and run-duration heatmaps and the run-cost heatmap carry trace_id exemplars', async () => {
    const heatmaps = dashboards.flatMap(({ d }) => queriesOf(d).filter((q) => q.exemplar));
    expect(heatmaps.length).toBe(4);
    for (const q of heatmaps) {
      // Run cost is a per_task (LLM) role's; task duration is read for the service role.
      const role = q.expr.includes('agentic_task_run_cost_usd') ? 'deva_ts' : 'worker';
      const expr = substitute(q.expr, { ...BUILTINS, instance: '.*', role, agent: 'deva_ts' });
      const now = Date.now() / 1000;
      const res = await fetch(`${prom.url}/api/v1/query_exemplars?${new URLSearchParams({ query: expr, start: String(now - 600), end: String(now) })}`);
      const body = (await res.json()) as { status: string; data: { exemplars: { labels: Record<string, string> }[] }[] };
      expect(body.status, q.where).toBe('success');
      const ids = body.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
      expect(ids.length, q.where).toBeGreaterThan(0);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  // last: it stops agents of the shared fleet
  it('capacity by role leaves out what an operator stopped: a stopped per_task role reads "stopped", not 0 % red; a role with one replica stopped stays 100 %', async () => {
    expect((await sup.api('POST', '/api/v1/agents/poa/stop', { reason: 'dashboard test' })).status).toBe(200);
    expect((await sup.api('POST', '/api/v1/agents/worker-1/stop', { reason: 'dashboard test' })).status).toBe(200);
    await waitFor('Prometheus to see the stopped slots and replica', async () => {
      const slots = await prom.query('agentic_slots_stopped{role="poa"} == 3');
      const replicas = await prom.query('agentic_replicas_stopped{role="worker"} == 1');
      return (slots.data?.result.length ?? 0) > 0 && (replicas.data?.result.length ?? 0) > 0;
    }, 30_000, 500);
    const overview = dashboards.find((x) => x.file === 'agents-overview.json')?.d as Dashboard;
    const cap = allPanels(overview).find((p) => p.title === 'Capacity by role') as Panel;
    const r = await prom.query(substitute(cap.targets?.[0]?.expr ?? '', { ...BUILTINS, instance: '.*', role: '.*' }));
    const byRole = new Map(((r.data?.result ?? []) as unknown as { metric: { role: string }; value: [number, string] }[]).map((x) => [x.metric.role, x.value[1]]));
    expect(byRole.get('poa')).toBe('NaN'); // nothing it should have: 0 / 0
    expect(byRole.get('worker')).toBe('1');
    expect(byRole.get('deva_ts')).toBe('1');
    const mappings = (cap as unknown as { fieldConfig: { defaults: { mappings: { type: string; options: { match?: string; result: { text: string } } }[] } } }).fieldConfig.defaults.mappings;
    expect(mappings).toContainEqual(expect.objectContaining({ type: 'special', options: expect.objectContaining({ match: 'nan', result: expect.objectContaining({ text: 'stopped' }) }) }));
  });
});
