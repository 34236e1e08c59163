import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, cleanup, runCli, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startAlertmanager, startPrometheus, type Daemon } from './alertingStack.js';

/**
 * Issue 6, scenarios 3 and 4, with real parts: a supervisor, Prometheus 2.42 (1 s
 * scrape and evaluation) and Alertmanager 0.25 running the config that
 * `background alerting render` generated (only its timings shortened).
 */

interface AgentRow { replica: string; state: string; restarts_by_reason: Record<string, number> }
interface Decision { alertname: string; result: string; target: string | null }

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const metric = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);

/** Alerts that fire as soon as the supervisor is scraped, aimed at replica w-0. */
const RULES = {
  groups: [{
    name: 'e2e',
    rules: ['TestRepeatedRestart', 'TestUnauthorized'].map((alert) => ({
      alert,
      expr: 'up{job="agentic-supervisor"} == 1',
      labels: { severity: 'warning', action: 'restart', agent: 'w', role: 'w', replica: '0' },
      annotations: { summary: `${alert} for w-0`, runbook_url: 'docs/alerting.md' },
    })),
  }],
};

describe('alerting loop: Prometheus → Alertmanager → recovery controller', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-loop-'));
  let sup: RunningSupervisor;
  let am: Daemon | undefined;
  let prom: Daemon | undefined;
  const agent = async () => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.find((a) => a.replica === 'w-0') as AgentRow;
  const decisions = async () => (await sup.api<{ decisions: Decision[] }>('GET', '/api/v1/alerts/decisions?limit=500')).body.decisions;

  beforeAll(async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] });
    await waitFor('w-0 to run', async () => (await agent()).state === 'running');
    const out = path.join(dir, 'am');
    const r = await runCli(['background', 'alerting', 'render', '--config', path.join(sup.dir, 'config.yaml'), '--out', out, '--controller-url', sup.url]);
    expect(r.code, r.stderr).toBe(0);
    // Shorten the generated timings; add a receiver that presents a wrong token.
    const file = path.join(out, 'alertmanager.yml');
    const cfg = parse(readFileSync(file, 'utf8'));
    Object.assign(cfg.route, { group_wait: '1s', group_interval: '1s' });
    const restart = cfg.route.routes.find((x: { receiver: string }) => x.receiver === 'recovery-controller');
    Object.assign(restart, { group_wait: '1s', group_interval: '1s', repeat_interval: '2s' });
    writeFileSync(path.join(out, 'wrong.token'), 'not-the-webhook-token-0123456789\n', { mode: 0o600 });
    cfg.route.routes.unshift({ receiver: 'intruder', matchers: ['alertname="TestUnauthorized"'], group_wait: '1s', group_interval: '1s', repeat_interval: '2s' });
    cfg.receivers.push({ name: 'intruder', webhook_configs: [{ url: `${sup.url}/api/v1/alerts`, http_config: { authorization: { type: 'Bearer', credentials_file: 'wrong.token' } } }] });
    writeFileSync(file, stringify(cfg));
    writeFileSync(path.join(dir, 'e2e.rules.yml'), stringify(RULES));
    am = await startAlertmanager(dir, file);
    prom = await startPrometheus(dir, { target: new URL(sup.url).host, alertmanager: new URL(am.url).host, rules: [path.join(dir, 'e2e.rules.yml'), path.join(ROOT, 'prometheus/rules/agents.rules.yml')] });
  });

  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    cleanup(sup);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts exactly once while Alertmanager keeps repeating the same alert (scenario 3)', async () => {
    const repeated = await waitFor('Alertmanager to deliver the alert 4 times', async () => {
      const ds = (await decisions()).filter((d) => d.alertname === 'TestRepeatedRestart');
      return ds.length >= 4 ? ds : undefined;
    }, 60_000, 250);
    expect(repeated.filter((d) => d.result === 'acted')).toHaveLength(1);
    expect(repeated.filter((d) => d.result !== 'acted').every((d) => d.result === 'duplicate')).toBe(true);
    await waitFor('w-0 running again', async () => (await agent()).state === 'running');
    expect((await agent()).restarts_by_reason.alert).toBe(1);
  });

  it('acts on no notification with a wrong token: 403, Alertmanager gives up (scenario 4)', async () => {
    const text = await waitFor('the 403 to be counted', async () => {
      const t = await (await fetch(`${sup.url}/metrics`)).text();
      return metric(t, /agentic_controller_webhook_requests_total\{code="403"\} (\d+)/) >= 1 ? t : undefined;
    }, 30_000, 250);
    expect(metric(text, /agentic_controller_webhook_requests_total\{code="5\d\d"\} (\d+)/)).toBe(0);
    const amMetrics = await (await fetch(`${am?.url}/metrics`)).text();
    expect(metric(amMetrics, /alertmanager_notifications_failed_total\{integration="webhook"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    expect((await decisions()).some((d) => d.alertname === 'TestUnauthorized')).toBe(false);
  });

  it('answers malformed, unauthorised and oversized requests with 4xx, acts on none, and keeps serving (scenario 4)', async () => {
    const hook = readFileSync(path.join(sup.stateDir, 'webhook.token'), 'utf8').trim();
    const post = (body: string, auth = `Bearer ${hook}`) => fetch(`${sup.url}/api/v1/alerts`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body }).then((r) => r.status);
    const before = (await decisions()).length;
    expect(await post('{"version":"4",')).toBe(400);
    expect(await post(JSON.stringify({ version: '4', alerts: [{ labels: {} }] }))).toBe(400);
    expect(await post('{}', '')).toBe(401);
    expect(await post('{}', 'Bearer wrong')).toBe(403);
    expect(await post(`{"pad":"${'x'.repeat(700 * 1024)}"}`)).toBe(413);
    // Only Alertmanager's own repeats of TestRepeatedRestart (duplicates) may have arrived meanwhile.
    const all = await decisions();
    const after = all.slice(0, all.length - before);
    expect(after.every((d) => d.alertname === 'TestRepeatedRestart' && d.result === 'duplicate')).toBe(true);
    expect((await agent()).restarts_by_reason.alert).toBe(1);
    expect((await fetch(`${sup.url}/healthz`)).status).toBe(200);
  });
});
