import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, processesWith, restartSupervisor, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

interface Task { id: string; status: string; attempts: number; assigned_to: string | null; result: { by: string; done: number } | null; error: string | null }
interface AgentRow { agent: string; replica: string; state: string; pid: number | null; task: { id: string } | null }

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const fast = { restart_attempts: 3, base_delay: 0.1, max_delay: 0.5, circuit_breaker_threshold: 3, breaker_window: 60, breaker_cooldown: 600, stable_uptime: 30 };
const getTask = async (sup: RunningSupervisor, id: string) => (await sup.api<{ task: Task }>('GET', `/api/v1/tasks/${id}`)).body.task;
const agents = async (sup: RunningSupervisor) => (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents;
const submit = async (sup: RunningSupervisor, body: Record<string, unknown>) => {
  const r = await sup.api<{ task: Task }>('POST', '/api/v1/tasks', body);
  expect(r.status).toBe(201);
  return r.body.task;
};
const allRunning = (sup: RunningSupervisor, n: number) => waitFor(`${n} running replicas`, async () => (await agents(sup)).filter((a) => a.state === 'running').length === n);

describe('recovery with real processes', () => {
  let sup: RunningSupervisor | undefined;
  afterEach(() => { cleanup(sup); sup = undefined; });

  it('re-runs the task of a killed replica on the other replica, where it completes', async () => {
    sup = await startSupervisor({ queue: { retry_backoff: { initial: 0.1 } }, monitoring: { recovery: fast }, agents: [{ name: 'w', command: ['node', WORKER], replicas: 2, heartbeat_interval: 1 }] });
    await allRunning(sup, 2);
    const task = await submit(sup, { role: 'w', title: 'long', payload: { work_ms: 4000 } });
    const holder = await waitFor('the task to be assigned', async () => (await agents(sup!)).find((a) => a.task?.id === task.id));
    process.kill(holder.pid as number, 'SIGKILL');
    const done = await waitFor('completion', async () => { const t = await getTask(sup!, task.id); return t.status === 'completed' ? t : undefined; });
    expect(done.attempts).toBe(2);
    expect(done.result?.by).not.toBe(holder.replica);
  });

  it('keeps tasks pending while a whole role is down, and completes them when it is back', async () => {
    const down = path.join(ROOT, `.agentic-down-${randomUUID()}`);
    sup = await startSupervisor({ monitoring: { recovery: fast }, agents: [{ name: 'w', command: ['node', WORKER], replicas: 2, env: { WORKER_DOWN_FILE: down } }] });
    await allRunning(sup, 2);
    writeFileSync(down, '1');
    try {
      // An agent may already be gone (ESRCH: under load a replica can be between exit and restart as it is listed); every one must end up down either way.
      for (const a of await agents(sup)) {
        try { process.kill(a.pid as number, 'SIGKILL'); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; }
      }
      await waitFor('every replica to be circuit-open or failed', async () => (await agents(sup!)).every((a) => a.state === 'circuit_open' || a.state === 'failed'));
      const tasks = await Promise.all([1, 2, 3].map((i) => submit(sup!, { role: 'w', title: `t${i}` })));
      await new Promise((r) => setTimeout(r, 1500));
      for (const t of tasks) expect((await getTask(sup, t.id)).status).toBe('pending');
      rmSync(down);
      expect((await sup.api('POST', '/api/v1/agents/w/reset', {})).status).toBe(200);
      for (const t of tasks) await waitFor(`${t.id} completed`, async () => (await getTask(sup!, t.id)).status === 'completed');
    } finally {
      rmSync(down, { force: true });
    }
  });

  it('hands an agent its checkpoint back after a restart', async () => {
    sup = await startSupervisor({ monitoring: { recovery: fast }, agents: [{ name: 'w', command: ['node', WORKER] }] });
    await allRunning(sup, 1);
    for (let i = 0; i < 3; i++) {
      const t = await submit(sup, { role: 'w', title: `t${i}`, payload: { work_ms: 10 } });
      await waitFor('completion', async () => (await getTask(sup!, t.id)).status === 'completed');
    }
    const [a] = await agents(sup);
    process.kill(a!.pid as number, 'SIGKILL');
    const log = path.join(sup.stateDir, 'logs/w.log');
    const restored = await waitFor('a welcome with the restored checkpoint', () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg?: string; restored?: { done: number } }).find((l) => l.msg === 'welcomed' && l.restored)?.restored);
    expect(restored.done).toBe(3);
  });

  it('dead-letters a task that keeps failing after max_attempts, and a permanent failure at once', async () => {
    sup = await startSupervisor({ queue: { max_attempts: 2, retry_backoff: { initial: 0.1 } }, agents: [{ name: 'w', command: ['node', WORKER] }] });
    await allRunning(sup, 1);
    const flaky = await submit(sup, { role: 'w', title: 'always fails', payload: { fail: true, work_ms: 10 } });
    const perm = await submit(sup, { role: 'w', title: 'permanent', payload: { fail: true, permanent: true, work_ms: 10 } });
    const f = await waitFor('dead letter', async () => { const t = await getTask(sup!, flaky.id); return t.status === 'failed' ? t : undefined; });
    expect(f.attempts).toBe(2);
    expect(f.error).toMatch(/gave up after 2 attempts/);
    const p = await waitFor('permanent failure', async () => { const t = await getTask(sup!, perm.id); return t.status === 'failed' ? t : undefined; });
    expect(p.attempts).toBe(1);
    const list = (await sup.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=failed')).body.tasks.map((t) => t.id).sort();
    expect(list).toEqual([flaky.id, perm.id].sort());
  });

  it('answers 429 when the queue is at max_depth, and loses nothing already queued', async () => {
    sup = await startSupervisor({ queue: { max_depth: 3 }, agents: [{ name: 'w', command: ['node', WORKER], restart: 'never', env: { WORKER_CRASH_ON_START: '1' } }] });
    for (let i = 0; i < 3; i++) await submit(sup, { role: 'w', title: `t${i}` });
    const r = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', { role: 'w', title: 'one too many' });
    expect(r.status).toBe(429);
    expect(r.body.error).toBe('queue_full');
    expect(r.body.reason).toMatch(/max_depth 3/);
    const cli = await sup.cli(['background', 'submit', 'w', '--title', 'x']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/queue is full/);
    expect((await sup.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=pending')).body.tasks).toHaveLength(3);
  });

  it('after a SIGKILL of the supervisor mid-task, the next start loses no task, duplicates no agent and leaves no orphan', async () => {
    const marker = `orph${randomUUID().slice(0, 8)}`;
    sup = await startSupervisor({ monitoring: { recovery: fast }, agents: [
      // The marker in argv tells this test's workers from those of test files running alongside.
      { name: 'w', command: ['node', WORKER, `worker-${marker}`], replicas: 2 },
      { name: 'plain', command: [path.join(ROOT, 'test/fixtures/agents/tree.sh')], env: { MARKER: marker } },
    ] });
    await allRunning(sup, 3);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await submit(sup, { role: 'w', title: `t${i}`, payload: { work_ms: 800 } })).id);
    await waitFor('two tasks in progress', async () => (await agents(sup!)).filter((a) => a.task).length === 2);
    const oldPlain = processesWith(`agent-${marker}`);
    expect(oldPlain).toHaveLength(1);
    sup.proc.kill('SIGKILL');
    await waitFor('the supervisor to die', () => sup!.proc.exitCode !== null || sup!.proc.signalCode !== null);
    sup = await restartSupervisor(sup);
    await allRunning(sup, 3);
    expect(processesWith(`agent-${marker}`)).toHaveLength(1);
    expect(processesWith(`agent-${marker}`)).not.toEqual(oldPlain);
    expect(processesWith(`grandchild-${marker}`)).toHaveLength(1);
    for (const id of ids) await waitFor(`${id} completed`, async () => (await getTask(sup!, id)).status === 'completed', 30_000);
    expect(processesWith(`worker-${marker}`)).toHaveLength(2);
  });
});
