import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertKey } from '../../src/controller/alertmanagerPayload.js';
import { openDatabase } from '../../src/store/Database.js';
import { ROOT, cleanup, restartSupervisor, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { alert, payload } from '../unit/controller/helpers.js';

interface AgentRow { agent: string; replica: string; state: string; pid: number | null; restarts_by_reason: Record<string, number> }
interface Decision { id: number; result: string; reason: string; target: string | null; decision_ms: number; fingerprint: string }

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

describe('the recovery controller inside a real supervisor (POST /api/v1/alerts)', () => {
  let sup: RunningSupervisor;
  let hook: string;
  let instance: string;
  const agents = () => sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents').then((r) => r.body.agents);
  const row = async (slot: string) => (await agents()).find((a) => a.replica === slot) as AgentRow;
  const decisions = (limit = 50) => sup.api<{ decisions: Decision[] }>('GET', `/api/v1/alerts/decisions?limit=${limit}`).then((r) => r.body.decisions);
  const send = (body: unknown, headers: Record<string, string> = {}) => fetch(`${sup.url}/api/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  let seen = 0;
  /** Posts a notification, expects 202 accepted at once, and waits for the decisions of its alerts (oldest first). */
  const decide = async (body: ReturnType<typeof payload>): Promise<Decision[]> => {
    const since = seen;
    const res = await send(body);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', alerts: body.alerts.length });
    const ds = await waitFor(`${body.alerts.length} decision(s)`, async () => {
      const fresh = (await decisions(500)).filter((d) => d.id > since);
      return fresh.length >= body.alerts.length ? fresh.reverse() : undefined;
    });
    seen = Math.max(seen, ...ds.map((d) => d.id));
    return ds;
  };
  const onW = (over: Parameters<typeof alert>[0] = {}) => alert({ ...over, labels: { agent: 'w', role: 'w', replica: 'w-0', instance, ...over.labels } });

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: { recovery: { restart_attempts: 3, base_delay: 0.1, max_delay: 0.5, circuit_breaker_threshold: 2, breaker_window: 60, breaker_cooldown: 600, stable_uptime: 30 } },
      agents: [
        { name: 'w', command: ['node', WORKER], replicas: 2, heartbeat_interval: 1 },
        { name: 'loop', command: ['node', WORKER], env: { WORKER_CRASH_ON_START: '1' } },
      ],
    });
    hook = readFileSync(path.join(sup.stateDir, 'webhook.token'), 'utf8').trim();
    instance = new URL(sup.url).host;
    await waitFor('w to run', async () => (await agents()).filter((a) => a.agent === 'w' && a.state === 'running').length === 2);
  });
  afterAll(() => cleanup(sup));

  it('restarts the replica a firing action="restart" alert names, counted as reason "alert"', async () => {
    const before = await row('w-0');
    expect(await decide(payload(onW()))).toMatchObject([{ result: 'acted', target: 'w-0' }]);
    const after = await waitFor('w-0 restarted by the alert', async () => { const r = await row('w-0'); return r.restarts_by_reason.alert === 1 && r.state === 'running' && r.pid !== before.pid ? r : undefined; });
    expect(after.restarts_by_reason.crash ?? 0).toBe(before.restarts_by_reason.crash ?? 0);
    expect((await row('w-1')).restarts_by_reason.alert).toBeUndefined();
  });

  it('restarts exactly once when Alertmanager delivers the same alert again and again', async () => {
    for (let i = 0; i < 5; i++) expect((await decide(payload(onW())))[0]?.result).toBe('duplicate');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await row('w-0')).restarts_by_reason.alert).toBe(1);
  });

  it('does not restart its own w-1 for an alert about another supervisor\'s w-1 (instance label)', async () => {
    const port = Number(new URL(sup.url).port);
    for (const other of [`192.0.2.10:${port}`, `127.0.0.1:${port === 65535 ? port - 1 : port + 1}`]) {
      const [d] = await decide(payload(onW({ fingerprint: `other-${other}`, labels: { replica: '1', instance: other } })));
      expect(d).toMatchObject({ result: 'skipped_unknown_agent', target: 'w-1' });
      expect(d?.reason).toContain(`instance ${other} is not this supervisor`);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await row('w-1')).restarts_by_reason.alert).toBeUndefined();
  });

  it('leaves a replica with an open breaker alone (skipped_circuit_open)', async () => {
    await waitFor('loop-0 to open its breaker', async () => ['circuit_open', 'failed'].includes((await row('loop-0')).state));
    expect(await decide(payload(alert({ fingerprint: 'loop', labels: { agent: 'loop', replica: 'loop-0', instance, alertname: 'AgentDown' } })))).toMatchObject([{ result: 'skipped_circuit_open' }]);
    expect((await row('loop-0')).restarts_by_reason.alert).toBeUndefined();
  });

  it('answers bad requests with the right 4xx and a JSON reason, acts on none, and keeps running', async () => {
    const count = (await decisions(500)).length;
    const valid = JSON.stringify(payload(onW({ fingerprint: 'bad-requests', labels: { replica: 'w-1' } })));
    const cases: [string, Promise<Response>, number][] = [
      ['malformed JSON', send('{"version":"4","alerts":['), 400],
      ['wrong schema', send({ version: '3', alerts: 'none' }), 400],
      ['missing token', send(valid, { authorization: '' }), 401],
      ['wrong token', send(valid, { authorization: `Bearer ${sup.token}` }), 403],
      ['oversized', send(JSON.stringify({ ...payload(onW()), pad: 'x'.repeat(600 * 1024) })), 413],
    ];
    for (const [name, p, code] of cases) {
      const res = await p;
      expect(res.status, name).toBe(code);
      const body = (await res.json()) as { error: string; reason?: string };
      expect(body.error, name).toBeTruthy();
      if (code === 400) expect(body.reason, name).toMatch(name === 'wrong schema' ? /not an Alertmanager webhook v4 payload: version/ : /malformed JSON/);
    }
    expect((await decisions(500)).length).toBe(count);
    expect((await row('w-1')).restarts_by_reason.alert).toBeUndefined();
    expect((await fetch(`${sup.url}/healthz`)).status).toBe(200);
  });

  it('counts every decision and webhook status in /metrics', async () => {
    const text = await (await fetch(`${sup.url}/metrics`)).text();
    expect(text).toMatch(/agentic_controller_actions_total\{action="restart",result="acted"\} 1\b/);
    expect(text).toMatch(/agentic_controller_actions_total\{action="restart",result="duplicate"\} 5\b/);
    expect(text).toMatch(/agentic_controller_webhook_requests_total\{code="413"\} 1\b/);
    expect(text).toMatch(/agentic_controller_webhook_requests_total\{code="401"\} 1\b/);
    expect(text).toMatch(/agentic_controller_decision_seconds_count \d+/);
  });

  it('lists decisions with `background alerts`, as a table and as JSON, naming the replica slot as the target', async () => {
    await decide(payload(onW({ fingerprint: 'resolved-w-1', status: 'resolved', endsAt: '2025-01-01T10:10:00Z', labels: { alertname: 'AgentTaskStuck', replica: '1' } })));
    const table = await sup.cli(['background', 'alerts', '--limit', '50']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/AgentUnresponsive\s+w-0\s+\S+\s+acted/);
    expect(table.stdout).toMatch(/AgentTaskStuck\s+w-1\s+\S+\s+skipped_resolved/);
    expect(table.stdout).toContain('skipped_circuit_open');
    const json = await sup.cli(['background', 'alerts', '--json', '--limit', '3']);
    const parsed = JSON.parse(json.stdout) as Decision[];
    expect(parsed).toHaveLength(3);
    expect(parsed.map((d) => [d.result, d.target])).toEqual([['skipped_resolved', 'w-1'], ['skipped_circuit_open', 'loop-0'], ['skipped_unknown_agent', 'w-1']]);
  });

  it('answers 500 webhook requests with 202 and decides every one, printing the decision latency', async () => {
    const client: number[] = [];
    for (let i = 0; i < 500; i++) {
      // One restart alert per request with a new fingerprint: the first acts, the rest
      // hit the cooldown (claim, rate limit, release): the full decision path each time.
      const body = JSON.stringify(payload(onW({ fingerprint: `bench-${i}`, labels: { replica: 'w-1', alertname: 'AgentTaskStuck' } })));
      const t0 = performance.now();
      const res = await send(body);
      await res.arrayBuffer();
      client.push(performance.now() - t0);
      expect(res.status).toBe(202);
    }
    const decided = await waitFor('500 decisions', async () => {
      const ds = (await decisions(500)).filter((d) => d.fingerprint.startsWith('bench-'));
      return ds.length === 500 ? ds : undefined;
    });
    expect(decided.filter((d) => d.result === 'acted')).toHaveLength(1);
    const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1] as number;
    const ms = decided.map((d) => d.decision_ms);
    const line = `recovery controller, 500 requests: decision p50 ${pct(ms, 50).toFixed(2)} ms, p99 ${pct(ms, 99).toFixed(2)} ms, max ${Math.max(...ms).toFixed(2)} ms; HTTP round trip p50 ${pct(client, 50).toFixed(2)} ms, p99 ${pct(client, 99).toFixed(2)} ms`;
    console.log(line);
    // Figures are for docs/benchmarks.md; the bound here is only the webhook's answer budget
    // (the decision now includes the wait in the queue, and this must pass at load average 10).
    expect(pct(ms, 99)).toBeLessThan(250);
  });
});

describe('the in-process controller across a restart of the supervisor', () => {
  let sup: RunningSupervisor | undefined;
  afterAll(() => cleanup(sup));

  it('decides an alert it accepted but had not decided before it stopped, once the agents run again', async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] });
    const w0 = async (s: RunningSupervisor) => (await s.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.find((a) => a.replica === 'w-0');
    await waitFor('w-0 to run', async () => (await w0(sup as RunningSupervisor))?.state === 'running');
    expect(await sup.stop()).toBe(0);
    // What a crash right after the 202 leaves behind: the alert in the inbox, undecided.
    const queued = alert({ fingerprint: 'queued-before-stop', labels: { agent: 'w', role: 'w', replica: '0', instance: '' } });
    const db = openDatabase(path.join(sup.stateDir, 'state.db'));
    db.prepare('INSERT INTO controller_inbox (alert_key, received_at, alert) VALUES (?, ?, ?)').run(alertKey(queued), Date.now(), JSON.stringify(queued));
    db.close();
    sup = await restartSupervisor(sup);
    const running = sup;
    const decided = await waitFor('the queued alert to be decided', async () => (await running.api<{ decisions: Decision[] }>('GET', '/api/v1/alerts/decisions?limit=10')).body.decisions.find((d) => d.fingerprint === 'queued-before-stop'));
    expect(decided).toMatchObject({ result: 'acted', target: 'w-0' });
    await waitFor('w-0 restarted by the alert', async () => (await w0(running))?.restarts_by_reason.alert === 1);
  });
});
