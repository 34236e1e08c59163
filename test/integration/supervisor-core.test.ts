import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, processesWith, runCli, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

interface AgentRow { agent: string; replica: string; state: string; pid: number | null; restarts: number; restarts_by_reason: Record<string, number> }

const MARKER = `m${randomUUID().slice(0, 8)}`;
const agents = (sup: RunningSupervisor) => sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents').then((r) => r.body.agents);

describe('supervisor core with real processes', () => {
  let sup: RunningSupervisor;

  beforeAll(async () => {
    sup = await startSupervisor({
      server: { port: 0, body_limit_bytes: 4096 },
      agents: [
        { name: 'tree', command: [path.join(ROOT, 'test/fixtures/agents/tree.sh')], env: { MARKER, ANTHROPIC_API_KEY: 'sk-secret-value' }, secret_env: ['ANTHROPIC_API_KEY'], stop_timeout: 2 },
        { name: 'leaky', mode: 'per_task', command: ['node', '-e', 'console.log("my key is " + process.env.ANTHROPIC_API_KEY + " and token " + process.env.MY_SECRET)'], env: { ANTHROPIC_API_KEY: 'sk-ant-secret-0123456789', MY_SECRET: 'hunter2-hunter2' }, secret_env: ['MY_SECRET'] },
        { name: 'echoer', mode: 'per_task', command: ['node', '-e', 'console.log(JSON.stringify({argv: process.argv.slice(1)}))', '--', '{prompt}', 'id={task_id}'] },
      ],
    });
    await waitFor('tree to run with its grandchild', () => processesWith(`grandchild-${MARKER}`).length === 1 && processesWith(`agent-${MARKER}`).length === 1);
  });

  afterAll(() => cleanup(sup));

  it('refuses a second start against the same state directory, naming the running pid (exit 2)', async () => {
    const r = await runCli(['background', 'start', '--config', path.join(sup.dir, 'config.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`pid ${sup.proc.pid}`);
    expect(r.stderr).toMatch(/already running/);
  });

  it('requires the bearer token: 401 without, 403 when wrong, 200 when right', async () => {
    const none = await fetch(`${sup.url}/api/v1/agents`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'unauthorized', reason: 'send Authorization: Bearer <token>, or log in to the web dashboard with the URL `background ui` prints' });
    const wrong = await fetch(`${sup.url}/api/v1/agents`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ error: 'forbidden', reason: 'the bearer token does not match' });
    const garbled = await fetch(`${sup.url}/api/v1/agents`, { headers: { authorization: 'Basic abc' } });
    expect(garbled.status).toBe(403);
    expect((await sup.api('GET', '/api/v1/agents')).status).toBe(200);
  });

  it('keeps the token in a 0600 file', () => {
    expect(statSync(path.join(sup.stateDir, 'api.token')).mode & 0o777).toBe(0o600);
  });

  it('answers malformed, invalid, wrongly typed and oversized bodies with a JSON 4xx', async () => {
    const bad = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', '{"role": "tree", ', {});
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
    const invalid = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', { role: 'tree', title: 'x', priority: 11 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.reason).toMatch(/priority/);
    const unknown = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', { role: 'treee', title: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.reason).toMatch(/did you mean "tree"/);
    const text = await sup.api<{ error: string }>('POST', '/api/v1/tasks', 'role=tree', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const big = await sup.api<{ error: string }>('POST', '/api/v1/tasks', { role: 'tree', title: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('payload_too_large');
    const missing = await sup.api<{ error: string }>('GET', '/api/v1/nope');
    expect(missing.status).toBe(404);
    expect((await fetch(`${sup.url}/healthz`)).status).toBe(200);
  });

  it('passes a hostile prompt to a per_task command as one verbatim argv element, never through a shell', async () => {
    const prompt = `He said "hi"; rm -rf ~ $(touch /tmp/pwned-${MARKER}) \`id\`\nsecond line 'quoted'`;
    const { body } = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'echoer', title: 't', prompt, id: `STORY_${MARKER}` });
    const done = await waitFor('the echo task to complete', async () => {
      const t = (await sup.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${body.task.id}`)).body.task;
      return t.status === 'completed' ? t : undefined;
    });
    expect(done.status).toBe('completed');
    // The log store writes asynchronously (one chunk per event-loop turn): wait for the line.
    const rec = await waitFor('the echo line in the log store', () => {
      const text = readFileSync(path.join(sup.stateDir, 'logs/echoer.log'), 'utf8').trim();
      const lines = text ? text.split('\n').map((l) => JSON.parse(l) as { argv?: string[]; task_id?: string }) : [];
      return lines.find((l) => l.argv && l.task_id === `STORY_${MARKER}`);
    }, 5000);
    expect(rec?.argv).toEqual([prompt, `id=STORY_${MARKER}`]);
    expect(() => statSync(`/tmp/pwned-${MARKER}`)).toThrow();
  });

  it('redacts secret environment values from agent output in the logs', async () => {
    const { body } = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'leaky', title: 'prints its key' });
    await waitFor('the leaky task', async () => (await sup.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${body.task.id}`)).body.task.status === 'completed');
    const log = await waitFor('the leaky line in the log store', () => { const t = readFileSync(path.join(sup.stateDir, 'logs/leaky.log'), 'utf8'); return t.includes('my key is') ? t : undefined; }, 5000);
    expect(log).toContain('my key is [REDACTED] and token [REDACTED]');
    expect(log).not.toContain('sk-ant-secret');
    expect(log).not.toContain('hunter2');
  });

  it('never shows environment values in status', async () => {
    const r = await sup.cli(['background', 'status', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ANTHROPIC_API_KEY');
    expect(r.stdout).not.toContain('sk-secret-value');
  });

  it('restarts an agent killed with SIGKILL, and leaves no orphan of its tree', async () => {
    const before = (await agents(sup)).find((a) => a.agent === 'tree') as AgentRow;
    const oldGrandchild = processesWith(`grandchild-${MARKER}`);
    process.kill(before.pid as number, 'SIGKILL');
    const after = await waitFor('a new tree process', async () => {
      const a = (await agents(sup)).find((x) => x.agent === 'tree');
      return a && a.state === 'running' && a.pid !== before.pid ? a : undefined;
    });
    expect(after.restarts_by_reason.crash).toBe(1);
    await waitFor('the old grandchild to be reaped', () => oldGrandchild.every((p) => !processesWith(`grandchild-${MARKER}`).includes(p)));
    await waitFor('the new tree', () => processesWith(`grandchild-${MARKER}`).length === 1);
  });

  it('stop ends every agent tree, grandchildren included, and the supervisor exits last', async () => {
    expect(processesWith(MARKER).length).toBeGreaterThanOrEqual(2);
    const r = await sup.cli(['background', 'stop']);
    expect(r.code).toBe(0);
    await waitFor('supervisor exit', () => sup.proc.exitCode !== null);
    expect(sup.proc.exitCode).toBe(0);
    expect(processesWith(MARKER)).toEqual([]);
    const after = await sup.cli(['background', 'status']);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/No supervisor is running.*background start --config/);
  });
});
