import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, killAll, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';

/**
 * Two real supervisor processes (dist/) on one real PostgreSQL 15: one backlog, leases,
 * takeover after a SIGKILL, checkpoints that follow an agent to the other supervisor.
 * `lease_seconds: 3` keeps the takeover short; every wait is bounded generously and waits
 * for the event, never a fixed time.
 */
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const WAIT = 60_000;
const LEASE_SECONDS = 3;

interface Attempt { n: number; cause: string | null; detail: string | null; started_at: number; agent: string | null; replica: string | null; supervisor?: string | null }
interface Task { id: string; status: string; attempts: number; assigned_to: string | null; result: { by: string; done: number } | null; attempt_history: Attempt[] }

let server: RealPostgres;
let db: pg.Pool;
let a: RunningSupervisor | undefined;
let b: RunningSupervisor | undefined;
const work = mkdtempSync(path.join(tmpdir(), 'pg-supervisors-'));
const env = () => ({ AGENTIC_TEST_QUEUE_URL: server.url });
const fast = { restart_attempts: 5, base_delay: 0.1, max_delay: 0.5 };
/** Each supervisor: `w<x>` (role w) for the backlog, `s<x>` (role slow) for the takeover, `cp` (the same name on both) for checkpoints. */
const configOf = (x: string) => ({
  queue: { backend: 'postgres', postgres: { url_env: 'AGENTIC_TEST_QUEUE_URL', lease_seconds: LEASE_SECONDS } },
  monitoring: { recovery: fast },
  agents: [
    { name: `w${x}`, role: 'w', command: ['node', WORKER], heartbeat_interval: 1 },
    { name: `s${x}`, role: 'slow', command: ['node', WORKER], heartbeat_interval: 1 },
    { name: 'cp', command: ['node', WORKER], heartbeat_interval: 1 },
  ],
});
const submit = async (sup: RunningSupervisor, body: Record<string, unknown>) => {
  const r = await sup.api<{ task: Task }>('POST', '/api/v1/tasks', body);
  expect(r.status).toBe(201);
  return r.body.task;
};
const taskOf = async (sup: RunningSupervisor, id: string) => (await sup.api<{ task: Task }>('GET', `/api/v1/tasks/${id}`)).body.task;
/** Stops b's `slow` agent, so the task goes to a's sa-0; submits it through `via` and waits until sa-0 holds it. */
const heldBySa0 = async (via: RunningSupervisor, body: Record<string, unknown>) => {
  expect((await b!.cli(['background', 'stop', 'sb'])).code).toBe(0);
  const t = await submit(via, body);
  await waitFor('a\'s sa-0 to hold the task', async () => (await taskOf(a!, t.id)).assigned_to === 'sa-0' || undefined, WAIT);
  return t;
};
const running = (sup: RunningSupervisor, n: number) => waitFor(`${n} running replicas`, async () => (await sup.api<{ agents: { state: string }[] }>('GET', '/api/v1/agents')).body.agents.filter((x) => x.state === 'running').length === n, WAIT);

beforeAll(async () => {
  server = await startPostgres();
  db = new pg.Pool({ connectionString: server.url, max: 2 });
}, 180_000);

afterAll(async () => {
  cleanup(a);
  cleanup(b);
  await db?.end();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('two supervisors on one PostgreSQL (background.queue.backend: postgres)', () => {
  it('an agent under the second supervisor is welcomed with the checkpoint its namesake wrote under the first', async () => {
    a = await startSupervisor(configOf('a'), { env: env() });
    await running(a, 3);
    for (let i = 0; i < 3; i++) {
      const t = await submit(a, { role: 'cp', title: `cp${i}`, payload: { work_ms: 10 } });
      await waitFor(`${t.id} completed`, async () => (await taskOf(a!, t.id)).status === 'completed', WAIT);
    }
    // The checkpoint is written just before task.finished; the row is there once the task completed.
    await waitFor('the checkpoint of cp-0 in PostgreSQL', async () => (await db.query<{ state: string }>("SELECT state FROM checkpoints WHERE slot = 'cp-0' ORDER BY seq DESC LIMIT 1")).rows[0]?.state.includes('"done":3'), WAIT);
    b = await startSupervisor(configOf('b'), { env: env() });
    await running(b, 3);
    const log = path.join(b.stateDir, 'logs/cp.log');
    const restored = await waitFor('cp-0 under the second supervisor welcomed with a checkpoint', () => readFileSync(log, 'utf8').split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as { msg?: string; restored?: { done: number } }).find((l) => l.msg === 'welcomed' && l.restored)?.restored, WAIT);
    expect(restored.done).toBe(3);
  }, 240_000);

  it('tasks submitted through one supervisor complete across both supervisors\' agents, each exactly once; either lists the whole backlog', async () => {
    const tasks = [];
    for (let i = 0; i < 16; i++) tasks.push(await submit(a!, { role: 'w', title: `t${i}`, payload: { work_ms: 400 } }));
    const ids = new Set(tasks.map((t) => t.id));
    // `GET /api/v1/tasks` and `background tasks` on the other supervisor see them all
    const listed = (await b!.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?role=w&limit=1000')).body.tasks;
    expect(new Set(listed.map((t) => t.id))).toEqual(ids);
    const cli = await b!.cli(['background', 'tasks', '--role', 'w', '--limit', '1000', '--json']);
    expect(cli.code).toBe(0);
    expect(new Set((JSON.parse(cli.stdout) as Task[]).map((t) => t.id))).toEqual(ids);
    // /metrics on either supervisor says who holds the running tasks (fleet-wide, scope="fleet")
    const held = /^agentic_tasks_held\{(?=[^}]*scope="fleet")(?=[^}]*role="w")[^}]*supervisor="([^"]+)"[^}]*\} ([1-9]\d*)$/m;
    await waitFor('agentic_tasks_held on b names a holder', async () => held.exec(await (await fetch(`${b!.url}/metrics`)).text()) ?? undefined, WAIT, 20);
    const done = await Promise.all(tasks.map((t) => waitFor(`${t.id} completed`, async () => { const x = await taskOf(b!, t.id); return x.status === 'completed' ? x : undefined; }, WAIT)));
    for (const t of done) {
      expect(t.attempts).toBe(1);
      expect(t.attempt_history.map((h) => h.cause)).toEqual(['completed']);
    }
    const by = new Set(done.map((t) => t.result?.by));
    expect(by).toEqual(new Set(['wa-0', 'wb-0'])); // both supervisors' agents worked
    // every task completed in exactly one attempt, by the supervisor that held its lease
    const { rows } = await db.query<{ task_id: string; n: number; supervisor: string; cause: string }>("SELECT task_id, n, supervisor, cause FROM task_attempts WHERE task_id = ANY($1)", [[...ids]]);
    expect(rows).toHaveLength(ids.size);
    expect(new Set(rows.map((r) => r.supervisor)).size).toBe(2);
    // and the API and `background tasks` say which supervisor ran each one
    for (const t of done) expect(t.attempt_history[0]?.supervisor).toBe(rows.find((r) => r.task_id === t.id)?.supervisor);
    const table = await a!.cli(['background', 'tasks', '--role', 'w', '--limit', '1000']);
    expect(table.stdout).toMatch(/\bSUPERVISOR\b/);
    for (const sup of new Set(rows.map((r) => r.supervisor))) expect(table.stdout).toContain(sup);
  }, 240_000);

  it('a supervisor frozen past its lease comes back to find the task taken over: it stops its own run and records nothing (fencing)', async () => {
    const deliveries = path.join(work, 'frozen');
    const t = await heldBySa0(a!, { role: 'slow', title: 'frozen', payload: { deliveries_file: deliveries, slow_first: 1, work_ms: 50 } });
    a!.proc.kill('SIGSTOP'); // a partition, a long GC pause: a renews nothing, its agent runs on
    try {
      expect((await b!.cli(['background', 'start', 'sb'])).code).toBe(0);
      await waitFor('b to take the task over', async () => (await taskOf(b!, t.id)).assigned_to === 'sb-0' || undefined, WAIT, 50);
    } finally {
      a!.proc.kill('SIGCONT');
    }
    await waitFor('a to see its lease gone and stop its run', () => a!.output().includes(`task ${t.id}: this supervisor's lease on it is gone`), WAIT);
    const done = await waitFor('completion under b', async () => { const x = await taskOf(a!, t.id); return x.status === 'completed' ? x : undefined; }, WAIT);
    expect(done.attempt_history.map((h) => h.cause)).toEqual(['supervisor_lost', 'completed']);
    expect(done.result?.by).toBe('sb-0');
    // a's agent is free again: a takes and completes a new task of the role
    expect((await b!.cli(['background', 'stop', 'sb'])).code).toBe(0);
    const next = await submit(a!, { role: 'slow', title: 'after', payload: { work_ms: 10 } });
    const after = await waitFor('the next slow task completed', async () => { const x = await taskOf(a!, next.id); return x.status === 'completed' ? x : undefined; }, WAIT);
    expect(after.result?.by).toBe('sa-0');
    expect((await b!.cli(['background', 'start', 'sb'])).code).toBe(0);
  }, 240_000);

  it('a task cancelled through the other supervisor: the supervisor running it stops its run at its next renewal', async () => {
    const t = await heldBySa0(a!, { role: 'slow', title: 'to cancel', payload: { work_ms: 600_000 } });
    const r = await b!.api<{ cancelled: boolean }>('POST', `/api/v1/tasks/${t.id}/cancel`, {});
    expect(r.status).toBe(200);
    await waitFor('a to stop its run of the cancelled task', () => a!.output().includes(`task ${t.id}: this supervisor's lease on it is gone`), WAIT);
    await waitFor('sa-0 free again', async () => (await a!.api<{ agents: { replica: string; task: unknown }[] }>('GET', '/api/v1/agents')).body.agents.find((x) => x.replica === 'sa-0')?.task === null, WAIT);
    expect((await taskOf(a!, t.id)).status).toBe('cancelled');
    expect((await b!.cli(['background', 'start', 'sb'])).code).toBe(0);
  }, 240_000);

  it('a SIGKILLed supervisor\'s task is taken over by the other once its lease (lease_seconds) runs out: supervisor_lost, then completed once', async () => {
    // The other supervisor's `slow` agent is stopped, so the task goes to a's agent sa-0 (its first delivery takes 10 minutes).
    const deliveries = path.join(work, 'deliveries');
    const t = await heldBySa0(b!, { role: 'slow', title: 'held', payload: { deliveries_file: deliveries, slow_first: 1, work_ms: 50 } });
    expect((await b!.cli(['background', 'start', 'sb'])).code).toBe(0);
    await running(b!, 3);
    expect((await taskOf(b!, t.id)).status).toBe('in_progress'); // held by a's lease: b's idle sb-0 does not take it
    killAll(a!); // the supervisor and its agents, as a lost host
    const killedAt = Date.now();
    const taken = await waitFor('b to take the task over', async () => { const x = await taskOf(b!, t.id); return x.assigned_to === 'sb-0' ? x : undefined; }, WAIT, 50);
    // lease_seconds acts: with the 30 s default a's last renewal would hold the task for at least 20 s after the kill.
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(taken.attempt_history[0]?.cause).toBe('supervisor_lost');
    // ... and is respected: b's attempt started only once a's lease had run out (the database's time, in the lost attempt's detail).
    const ranOutAt = Date.parse(/ran out at (\S+);/.exec(taken.attempt_history[0]?.detail ?? '')?.[1] ?? '');
    expect(ranOutAt).toBeGreaterThan(killedAt - LEASE_SECONDS * 1000);
    expect(taken.attempt_history[1]?.started_at).toBeGreaterThanOrEqual(ranOutAt - 50); // one host: one clock, give or take
    const done = await waitFor('completion under b', async () => { const x = await taskOf(b!, t.id); return x.status === 'completed' ? x : undefined; }, WAIT);
    expect(done.attempt_history.map((h) => h.cause)).toEqual(['supervisor_lost', 'completed']);
    expect(done.attempts).toBe(1); // the lost attempt does not count
    expect(done.result?.by).toBe('sb-0');
    expect(readFileSync(deliveries, 'utf8').split('\n').filter(Boolean)).toEqual(['1', '2']);
    const { rows } = await db.query<{ n: number; supervisor: string; cause: string }>('SELECT n, supervisor, cause FROM task_attempts WHERE task_id = $1 ORDER BY n', [t.id]);
    expect(rows.map((r) => r.cause)).toEqual(['supervisor_lost', 'completed']);
    expect(rows[0]?.supervisor).not.toBe(rows[1]?.supervisor);
  }, 240_000);
});
