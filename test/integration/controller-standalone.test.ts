import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cleanup, runCli, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { alert, payload } from '../unit/controller/helpers.js';

interface AgentRow { agent: string; replica: string; state: string; restarts_by_reason: Record<string, number> }
interface Decision { id: number; result: string; reason: string; target: string | null; supervisor: string | null }

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

/** Starts `background controller` on a random loopback port; resolves once it logs its URL. */
async function startController(args: string[]): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const proc = spawn(process.execPath, [CLI, 'background', 'controller', '--listen', '127.0.0.1:0', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const url = await waitFor('the controller to listen', () => {
    if (proc.exitCode !== null) throw new Error(`controller exited with ${proc.exitCode}: ${out}`);
    return /listening on (http:\/\/127\.0\.0\.1:\d+)\/api\/v1\/alerts/.exec(out)?.[1];
  });
  return { proc, url, output: () => out };
}

const stop = (p: ChildProcess) => new Promise<number | null>((r) => { if (p.exitCode !== null) return r(p.exitCode); p.once('exit', (c) => r(c)); p.kill('SIGTERM'); });

describe('the standalone recovery controller (background controller) in front of a supervisor', () => {
  let sup: RunningSupervisor;
  let ctl: Awaited<ReturnType<typeof startController>>;
  let args: string[];
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-ctl-'));
  const tokenFile = path.join(dir, 'webhook.token');
  const row = async (slot: string) => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.find((a) => a.replica === slot) as AgentRow;
  const token = () => readFileSync(tokenFile, 'utf8').trim();
  const post = (body: unknown, bearer = token()) => fetch(`${ctl.url}/api/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const decisions = async () => ((await (await fetch(`${ctl.url}/api/v1/alerts/decisions?limit=500`, { headers: { authorization: `Bearer ${token()}` } })).json()) as { decisions: Decision[] }).decisions;
  /** Posts a one-alert notification, expects 202 accepted at once, and waits for its decision. */
  const decide = async (body: ReturnType<typeof payload>): Promise<Decision> => {
    const since = Math.max(0, ...(await decisions()).map((d) => d.id));
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', alerts: 1 });
    return waitFor('the decision', async () => (await decisions()).find((d) => d.id > since));
  };
  const onW = (replica: string, instance: string, fingerprint = `fp-${replica}-${instance}`) => payload(alert({ fingerprint, labels: { agent: 'w', replica, instance } }));

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: { recovery: { restart_attempts: 3, base_delay: 0.1, max_delay: 0.5, circuit_breaker_threshold: 2, breaker_window: 60, breaker_cooldown: 600 } },
      agents: [{ name: 'w', command: ['node', WORKER], replicas: 2 }, { name: 'loop', command: ['node', WORKER], env: { WORKER_CRASH_ON_START: '1' } }],
    });
    args = ['--supervisor', `${sup.url}=${path.join(sup.stateDir, 'api.token')}`, '--map', `build-01:9464=${sup.url}`, '--state-dir', dir, '--token-file', tokenFile];
    ctl = await startController(args);
    await waitFor('w to run', async () => (await row('w-1')).state === 'running');
  });
  afterAll(async () => {
    if (ctl) await stop(ctl.proc);
    cleanup(sup);
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes by the instance label to the supervisor and restarts through its control API, once', async () => {
    const instance = new URL(sup.url).host;
    expect(await decide(onW('w-0', instance))).toMatchObject({ result: 'acted', target: 'w-0', supervisor: sup.url });
    await waitFor('w-0 restarted for the alert', async () => (await row('w-0')).restarts_by_reason.alert === 1);
    expect((await decide(onW('w-0', instance))).result).toBe('duplicate');
  });

  it('routes a mapped instance (--map) and skips an instance it does not know', async () => {
    expect(await decide(onW('w-1', 'build-01:9464'))).toMatchObject({ result: 'acted', target: 'w-1' });
    await waitFor('w-1 restarted for the alert', async () => (await row('w-1')).restarts_by_reason.alert === 1);
    const unknown = await decide(onW('w-1', 'elsewhere:9464'));
    expect(unknown).toMatchObject({ result: 'skipped_unknown_agent' });
    expect(unknown?.reason).toMatch(/no supervisor configured for instance elsewhere:9464/);
  });

  it('keys the cooldown by the replica restarted: an agent-level alert after the replica alerts restarts nothing', async () => {
    const d = await decide(payload(alert({ fingerprint: 'agent-level', labels: { alertname: 'AgentTaskStuck', agent: 'w', replica: '', instance: new URL(sup.url).host } })));
    expect(d).toMatchObject({ result: 'skipped_rate_limited', target: 'w', supervisor: sup.url });
    expect(d.reason).toMatch(/^w-0 and w-1 were restarted by an alert \d+ and \d+ s ago; the cooldown between alert restarts of one replica is 300 s/);
    expect((await row('w-0')).restarts_by_reason.alert).toBe(1);
    expect((await row('w-1')).restarts_by_reason.alert).toBe(1);
  });

  it('reads the breaker from the supervisor\'s replica states and skips an open one', async () => {
    await waitFor('loop-0 to open its breaker', async () => ['circuit_open', 'failed'].includes((await row('loop-0')).state));
    const d = await decide(payload(alert({ fingerprint: 'loop', labels: { agent: 'loop', replica: 'loop-0', instance: new URL(sup.url).host } })));
    expect(d.result).toBe('skipped_circuit_open');
    // The agents API reports each replica's breaker, so a half-open trial is visible remotely too.
    const rows = (await sup.api<{ agents: { replica: string; breaker?: string }[] }>('GET', '/api/v1/agents')).body.agents;
    expect(rows.find((r) => r.replica === 'loop-0')?.breaker).toMatch(/^(open|half_open)$/);
    expect(rows.find((r) => r.replica === 'w-0')?.breaker).toBe('closed');
  });

  it('refuses Alertmanager without the token (401) or with the supervisor\'s token (403)', async () => {
    expect((await fetch(`${ctl.url}/api/v1/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await post(onW('w-0', 'x'), sup.token)).status).toBe(403);
  });

  it('remembers acted alerts across a restart of the controller process', async () => {
    expect(await stop(ctl.proc)).toBe(0);
    ctl = await startController(args);
    expect((await decide(onW('w-0', new URL(sup.url).host))).result).toBe('duplicate');
    const listed = await runCli(['background', 'alerts', '--url', ctl.url, '--token-file', tokenFile, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Decision[]).map((d) => d.result)).toContain('acted');
  });

  it('records failed when the supervisor cannot be reached, and counts it for RecoveryControllerFailing', async () => {
    const instance = new URL(sup.url).host;
    await sup.stop();
    const d = await decide(onW('w-0', instance, 'after-stop'));
    expect(d.result).toBe('failed');
    expect(d.reason).toMatch(/supervisor http:\/\/127\.0\.0\.1:\d+: GET \/api\/v1\/agents failed/);
    const metrics = await (await fetch(`${ctl.url}/metrics`)).text();
    expect(metrics).toMatch(/agentic_controller_actions_total\{action="restart",result="failed"\} 1\b/);
  });
});

describe('POST /api/v1/agents/:name/restart with a body', () => {
  let sup: RunningSupervisor;
  beforeAll(async () => { sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] }); });
  afterAll(() => cleanup(sup));

  it('takes {reason:"alert", alertname} as an alert restart, {} as manual, and refuses anything else with 400', async () => {
    await waitFor('w to run', async () => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents[0]?.state === 'running');
    expect((await sup.api('POST', '/api/v1/agents/w/restart', { reason: 'alert', alertname: 'AgentDown' })).status).toBe(202);
    await waitFor('an alert restart', async () => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents[0]?.restarts_by_reason.alert === 1);
    expect((await sup.api('POST', '/api/v1/agents/w/restart', {})).status).toBe(202);
    await waitFor('a manual restart', async () => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents[0]?.restarts_by_reason.manual === 1);
    for (const bad of [{ reason: 'alert' }, { reason: 'whim' }, { reason: 'alert', alertname: 'X', extra: 1 }, [1]]) {
      const r = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/agents/w/restart', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.reason).toBeTruthy();
    }
  });
});
