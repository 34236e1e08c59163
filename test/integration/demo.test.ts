import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, processesWith, waitFor } from '../helpers/harness.js';

interface AgentRow { agent: string; replica: string; state: string; protocol: boolean; last_heartbeat_age_seconds: number | null; mode: string }
interface Task { id: string; role: string; status: string; assigned_to: string | null; llm: { num_turns?: number; total_cost_usd?: number } | null }

/** `npm start` as a user runs it: examples/demo.mjs in its own process group, like a terminal's foreground job. */
describe('the demo (npm start)', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'agentic-demo-'));
  let demo: ChildProcess;
  let out = '';
  let url = '';
  let token = '';
  const api = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${url}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return (await r.json()) as T;
  };

  beforeAll(async () => {
    demo = spawn(process.execPath, [path.join(ROOT, 'examples/demo.mjs'), '--port', '0'], { cwd: ROOT, detached: true, env: { ...process.env, DEMO_STATE_DIR: stateDir, DEMO_SUBMIT_EVERY_MS: '1000', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout?.on('data', (d) => (out += d));
    demo.stderr?.on('data', (d) => (out += d));
    const ep = await waitFor('the demo endpoint', () => JSON.parse(readFileSync(path.join(stateDir, 'endpoint.json'), 'utf8')) as { url: string }, 30_000);
    url = ep.url;
    token = readFileSync(path.join(stateDir, 'api.token'), 'utf8').trim();
  });
  afterAll(() => {
    try { process.kill(-(demo.pid as number), 'SIGKILL'); } catch { /* gone */ }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints the web dashboard link in the console, and its one-time code logs a browser in', async () => {
    const link = await waitFor('the dashboard link', () => /(http:\/\/\S+)\/ui\/#login=([A-Za-z0-9_-]+)/.exec(out) ?? undefined, 30_000);
    const login = (code: string) => fetch(`${link[1]}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: link[1] as string }, body: JSON.stringify({ code }) });
    const first = await login(link[2] as string);
    expect(first.status).toBe(200);
    expect(first.headers.get('set-cookie')).toMatch(/^agentic_ui=.*HttpOnly; SameSite=Strict/);
    expect((await login(link[2] as string)).status).toBe(401);
  });

  it('runs the five seed agents, which connect and heartbeat', async () => {
    const agents = await waitFor('every service agent connected and heartbeating', async () => {
      const a = (await api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).agents;
      const services = a.filter((x) => x.mode === 'service');
      return services.length === 5 && services.every((x) => x.state === 'running' && x.protocol && x.last_heartbeat_age_seconds !== null && x.last_heartbeat_age_seconds < 5) ? a : undefined;
    }, 30_000);
    expect([...new Set(agents.map((a) => a.agent))].sort()).toEqual(['deva_python', 'deva_ts', 'qaa', 'saa', 'sma']);
    expect(agents.find((a) => a.agent === 'deva_ts')?.mode).toBe('per_task');
  });

  it('gets stories completed by every role and both qaa replicas, the Python agent and the per_task claude included', async () => {
    const done = await waitFor('a completed task for every role and for qaa-0 and qaa-1', async () => {
      const tasks = (await api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=completed&limit=500')).tasks;
      const roles = new Set(tasks.map((t) => t.role));
      const replicas = new Set(tasks.map((t) => t.assigned_to));
      return ['saa', 'deva_python', 'qaa', 'sma', 'deva_ts'].every((r) => roles.has(r)) && replicas.has('qaa-0') && replicas.has('qaa-1') ? tasks : undefined;
    }, 60_000, 500);
    const py = done.find((t) => t.role === 'deva_python');
    expect(py?.assigned_to).toBe('deva_python-0');
    const claude = done.find((t) => t.role === 'deva_ts');
    expect(claude?.llm?.num_turns).toBeGreaterThan(0);
    expect(claude?.llm?.total_cost_usd).toBeGreaterThan(0);
  });

  it('serves the Node agents\' own metric (demo_work_steps_total) on the same /metrics, with agent, role and replica labels', async () => {
    const series = await waitFor('demo_work_steps_total', async () => {
      const s = parseExposition(await (await fetch(`${url}/metrics`)).text(), 'prometheus').series('demo_work_steps_total');
      return s.length ? s : undefined;
    }, 30_000, 500);
    for (const s of series) {
      expect(Object.keys(s.labels).sort()).toEqual(['agent', 'replica', 'role']);
      expect(['saa', 'qaa', 'sma']).toContain(s.labels.agent);
      expect(s.value).toBeGreaterThan(0);
    }
  });

  it('stops everything on Ctrl-C (SIGINT to the foreground group) and leaves no process behind', async () => {
    const exited = new Promise<number | null>((r) => demo.once('exit', (c) => r(c)));
    process.kill(-(demo.pid as number), 'SIGINT');
    await exited;
    await waitFor('no agent process left', () => processesWith(path.join(ROOT, 'examples/agents')).length === 0, 20_000);
    expect(processesWith('examples/agents')).toEqual([]);
    expect(out).toMatch(/all agents stopped/);
  });
});
