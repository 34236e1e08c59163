import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * Runs Debian's real promtool against the shipped Prometheus assets:
 * the rule files, their unit tests and both Prometheus configs. A missing promtool
 * is a failure, never a skip.
 */

const promDir = fileURLToPath(new URL('../../prometheus/', import.meta.url));
const alertingDoc = fileURLToPath(new URL('../../docs/alerting.md', import.meta.url));

/** The runbook base the shipped rules use (prometheus/runbooks.mjs sets another). */
const RUNBOOK_BASE = 'https://github.com/agentic-scrum/agentic-scrum-background/blob/main/docs/alerting.md';
const SEVERITIES = new Set(['critical', 'warning', 'none']);
const ACTIONS = new Set(['restart', 'page', 'none']);
/** Alerts that fire by design at all times, so no silent case can exist. */
const ALWAYS_FIRING = new Set(['Watchdog']);
/** Per-agent alerts built from metrics without a `replica` label. */
const NO_REPLICA = new Set(['AgentErrorRateHigh']);

interface PromtoolRun {
  status: number | null;
  output: string;
}

function promtool(args: string[]): PromtoolRun {
  const result = spawnSync('promtool', args, { cwd: promDir, encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? 'promtool is not on PATH: install it (Debian: apt-get install prometheus) — these tests do not skip'
        : `promtool ${args.join(' ')} could not run: ${result.error.message}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function yamlFiles(dir: string, suffix: string): string[] {
  return readdirSync(join(promDir, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => `${dir}/${f}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
const readYaml = (rel: string): Obj => asObj(parse(readFileSync(join(promDir, rel), 'utf8')));

interface AlertRule {
  name: string;
  labels: Obj;
  annotations: Obj;
}

function alertRules(files: string[]): { alerts: AlertRule[]; ruleCount: number } {
  const alerts: AlertRule[] = [];
  let ruleCount = 0;
  for (const file of files) {
    for (const group of asArray(readYaml(file).groups)) {
      for (const rule of asArray(asObj(group).rules).map(asObj)) {
        ruleCount += 1;
        if (typeof rule.alert === 'string') {
          alerts.push({ name: rule.alert, labels: asObj(rule.labels), annotations: asObj(rule.annotations) });
        }
      }
    }
  }
  return { alerts, ruleCount };
}

interface AlertCase {
  file: string;
  test: string;
  alertname: string;
  expAlerts: Obj[];
}

function alertCases(files: string[]): AlertCase[] {
  const cases: AlertCase[] = [];
  for (const file of files) {
    for (const t of asArray(readYaml(file).tests).map(asObj)) {
      for (const c of asArray(t.alert_rule_test).map(asObj)) {
        cases.push({
          file,
          test: String(t.name),
          alertname: String(c.alertname),
          expAlerts: asArray(c.exp_alerts).map(asObj),
        });
      }
    }
  }
  return cases;
}

describe('Prometheus assets checked by promtool', () => {
  const ruleFiles = yamlFiles('rules', '.yml');
  const testFiles = yamlFiles('tests', '.test.yml');
  const { alerts, ruleCount } = alertRules(ruleFiles);
  const cases = alertCases(testFiles);

  it('finds rule files, test files and alerts to check', () => {
    expect(ruleFiles).toContain('rules/agents.rules.yml');
    expect(testFiles).toContain('tests/agents.test.yml');
    expect(alerts.length).toBeGreaterThanOrEqual(15);
  });

  it('promtool check rules accepts every rule file and counts every rule', () => {
    const run = promtool(['check', 'rules', ...ruleFiles]);
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.status, run.output).toBe(0);
    const found = [...run.output.matchAll(/SUCCESS: (\d+) rules found/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(found).toBe(ruleCount);
  });

  it('promtool test rules passes every unit test file', () => {
    const run = promtool(['test', 'rules', ...testFiles]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.output.match(/SUCCESS/g)?.length).toBe(testFiles.length);
  });

  it.each(['prometheus.yml', 'prometheus.multi-host.yml'])('promtool check config accepts %s with its rule files', (config) => {
    const run = promtool(['check', 'config', config]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${config} is valid prometheus config file syntax`);
    expect(run.output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    expect(run.output).not.toMatch(/FAILED/);
  });

  it('every alert has a firing case and a silent case in the promtool tests', () => {
    const missing: string[] = [];
    for (const { name } of alerts) {
      const own = cases.filter((c) => c.alertname === name);
      if (!own.some((c) => c.expAlerts.length > 0)) missing.push(`${name}: no case where it fires`);
      if (!ALWAYS_FIRING.has(name) && !own.some((c) => c.expAlerts.length === 0)) {
        missing.push(`${name}: no case where it stays silent`);
      }
    }
    expect(missing).toEqual([]);
    const known = new Set(alerts.map((a) => a.name));
    expect(cases.map((c) => c.alertname).filter((n) => !known.has(n))).toEqual([]);
  });

  it('every firing case of a per-agent alert expects the agent, role, replica and instance labels', () => {
    const incomplete: string[] = [];
    for (const c of cases.filter((k) => k.alertname.startsWith('Agent'))) {
      for (const exp of c.expAlerts) {
        const labels = asObj(exp.exp_labels);
        const wanted = NO_REPLICA.has(c.alertname) ? ['agent', 'role', 'instance'] : ['agent', 'role', 'replica', 'instance'];
        const absent = wanted.filter((l) => typeof labels[l] !== 'string' || labels[l] === '');
        if (absent.length > 0) incomplete.push(`${c.file} "${c.test}" ${c.alertname}: missing ${absent.join(', ')}`);
      }
    }
    expect(incomplete).toEqual([]);
  });

  it('every alert has severity, action, summary, description and a runbook section in docs/alerting.md', () => {
    const doc = readFileSync(alertingDoc, 'utf8');
    const headings = new Set([...doc.matchAll(/^#{2,3} (.+)$/gm)].map((m) => (m[1] ?? '').trim()));
    const problems: string[] = [];
    for (const { name, labels, annotations } of alerts) {
      if (!SEVERITIES.has(String(labels.severity))) problems.push(`${name}: severity ${String(labels.severity)}`);
      if (!ACTIONS.has(String(labels.action))) problems.push(`${name}: action ${String(labels.action)}`);
      for (const key of ['summary', 'description']) {
        if (typeof annotations[key] !== 'string' || annotations[key] === '') problems.push(`${name}: no ${key}`);
      }
      if (annotations.runbook_url !== `${RUNBOOK_BASE}#${name.toLowerCase()}`) {
        problems.push(`${name}: runbook_url ${String(annotations.runbook_url)}`);
      }
      if (!headings.has(name)) problems.push(`${name}: no "## ${name}" section in docs/alerting.md`);
    }
    expect(problems).toEqual([]);
  });

  it('runbook URLs are absolute, and prometheus/runbooks.mjs moves them to another base (the rules stay valid for promtool)', () => {
    const script = join(promDir, 'runbooks.mjs');
    const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const tmp = mkdtempSync(join(tmpdir(), 'runbooks-'));
    try {
      cpSync(join(promDir, 'rules'), tmp, { recursive: true });
      const base = 'https://wiki.example.org/ops/agentic-alerting';
      const set = spawnSync(process.execPath, [script, '--base-url', base, '--rules-dir', tmp], { encoding: 'utf8' });
      expect(set.status, set.stderr).toBe(0);
      expect(set.stdout).toMatch(new RegExp(`^set ${alerts.length} runbook_url value\\(s\\)`));
      const moved = readdirSync(tmp).flatMap((f) => (parse(readFileSync(join(tmp, f), 'utf8')) as { groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[] }).groups.flatMap((g) => g.rules.filter((r) => r.alert)));
      expect(moved.map((r) => r.annotations?.runbook_url)).toEqual(moved.map((r) => `${base}#${String(r.alert).toLowerCase()}`));
      expect(spawnSync(process.execPath, [script, '--check', '--rules-dir', tmp], { encoding: 'utf8' }).status).toBe(0);
      const rules = promtool(['check', 'rules', ...readdirSync(tmp).map((f) => join(tmp, f))]);
      expect(rules.status, rules.output).toBe(0);
      // the shipped files are untouched by a run on a copy
      expect(readFileSync(join(promDir, 'rules/agents.rules.yml'), 'utf8')).toContain(`${RUNBOOK_BASE}#agentdown`);
      const relative = spawnSync(process.execPath, [script, '--base-url', 'docs/alerting.md', '--rules-dir', tmp], { encoding: 'utf8' });
      expect(relative.status).toBe(2);
      expect(relative.stderr).toMatch(/--base-url: expected an absolute http\(s\) URL/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
