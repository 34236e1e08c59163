import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { rawRequest, requestHead } from '../helpers/rawHttp.js';

interface AgentRow { replica: string; state: string; pid: number | null; restarts: number }

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/**
 * A real supervisor process (dist/) attacked over raw TCP, so the URL reaches its
 * HTTP parser byte for byte, as curl sends `/%61pi/...`: the spelling that used to
 * pass the bearer check. Also /metrics behind `background.server.metrics_auth`.
 */
describe('a real supervisor refuses the control API without a token, however the URL is spelled', () => {
  let sup: RunningSupervisor;
  let port: number;
  const secrets = mkdtempSync(path.join(tmpdir(), 'agentic-secrets-'));
  const password = 'scrape-password-0123456789';
  const row = async () => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.find((a) => a.replica === 'w-0') as AgentRow;

  beforeAll(async () => {
    const pwFile = path.join(secrets, 'metrics.password');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    sup = await startSupervisor({ server: { port: 0, metrics_auth: { username: 'prometheus', password_file: pwFile } }, agents: [{ name: 'w', command: ['node', WORKER] }] });
    port = Number(new URL(sup.url).port);
    await waitFor('w-0 to run', async () => (await row()).state === 'running');
  });
  afterAll(() => {
    cleanup(sup);
    rmSync(secrets, { recursive: true, force: true });
  });

  it('answers 401 to every %61pi request, and nothing happens: no shutdown, no restart, no reset, no task', async () => {
    const before = await row();
    const attempts: [string, string, string][] = [
      ['POST', '/%61pi/v1/shutdown', ''],
      ['POST', '/%61pi/v1/agents/w/restart', '{}'],
      ['POST', '/%61pi/v1/agents/w/reset', ''],
      ['POST', '/%61pi/v1/tasks', JSON.stringify({ role: 'w', title: 'intruder' })],
      ['POST', '/%61pi/v1/tasks/x/cancel', ''],
      ['GET', '/%61pi/v1/agents', ''],
      ['GET', '/%61pi/v1/status', ''],
      ['GET', '/%61pi/v1/alerts/decisions', ''],
      ['POST', '/%61pi/v1/alerts', '{}'],
      ['POST', '/%61%70%69/%76%31/%73hutdown', ''],
      ['POST', 'http://127.0.0.1/%61pi/v1/shutdown', ''],
    ];
    for (const [method, target, body] of attempts) {
      const res = await rawRequest(port, requestHead(method, target, body ? { 'content-type': 'application/json' } : {}), body);
      expect(res.status, `${method} ${target}`).toBe(401);
      expect(res.json, `${method} ${target}`).toMatchObject({ error: 'unauthorized' });
    }
    // Still up, same agent process, nothing queued.
    expect(sup.proc.exitCode).toBeNull();
    expect((await fetch(`${sup.url}/healthz`)).status).toBe(200);
    expect(await row()).toMatchObject({ state: 'running', pid: before.pid, restarts: before.restarts });
    expect((await sup.api<{ tasks: unknown[] }>('GET', '/api/v1/tasks')).body.tasks).toEqual([]);
  });

  it('does run the route behind %61pi with the token: it is the same route, so the spelling cannot be what protects it', async () => {
    const before = await row();
    const res = await rawRequest(port, requestHead('POST', '/%61pi/v1/agents/w/restart', { authorization: `Bearer ${sup.token}`, 'content-type': 'application/json' }), '{}');
    expect(res.status).toBe(202);
    await waitFor('w-0 restarted', async () => { const r = await row(); return r.restarts === before.restarts + 1 && r.state === 'running'; });
  });

  it('asks for basic auth on /metrics: 401 with WWW-Authenticate without or with wrong credentials, 200 with the right ones', async () => {
    const none = await fetch(`${sup.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="agentic-supervisor"/);
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    expect((await fetch(`${sup.url}/metrics`, { headers: { authorization: basic('prometheus', 'wrong-password-123456') } })).status).toBe(401);
    expect((await fetch(`${sup.url}/metrics`, { headers: { authorization: basic('other', password) } })).status).toBe(401);
    expect((await fetch(`${sup.url}/metrics`, { headers: { authorization: `Bearer ${sup.token}` } })).status).toBe(401);
    const ok = await fetch(`${sup.url}/metrics`, { headers: { authorization: basic('prometheus', password) } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^agentic_agent_up\{/m);
    // The spelling of the path does not open it either.
    expect((await rawRequest(port, requestHead('GET', '/%6detrics'))).status).toBe(401);
    // /healthz and /readyz stay open.
    expect((await fetch(`${sup.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${sup.url}/readyz`)).status).toBe(200);
  });
});
