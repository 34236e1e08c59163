import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, restartSupervisor, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';

/**
 * The fleet chaos test (issue 19): three real supervisors (dist/) on one real PostgreSQL 15,
 * three replicas of role `w` each, CHAOS_FLEET_TASKS (default 500) short tasks, and a
 * bounded, randomly ordered schedule of CHAOS_FLEET_AGENT_KILLS agent SIGKILLs,
 * CHAOS_FLEET_SUPERVISOR_KILLS supervisor SIGKILLs (each restarted on its state dir and
 * config once its lease check is done) and one PostgreSQL restart in the middle. Every
 * assertion reads the database directly. Waits are for events, bounded generously.
 */
const TASKS = Number(process.env.CHAOS_FLEET_TASKS ?? 500);
const AGENT_KILLS = Number(process.env.CHAOS_FLEET_AGENT_KILLS ?? 8);
const SUPERVISOR_KILLS = Number(process.env.CHAOS_FLEET_SUPERVISOR_KILLS ?? 3);
const LEASE_SECONDS = 2;
const MAX_ATTEMPTS = 8;
const WAIT = 60_000;
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const MARKER = `fleetchaos${randomUUID().slice(0, 8)}`;
const recovery = { restart_attempts: 10, base_delay: 0.1, max_delay: 0.5, jitter: 0.2, circuit_breaker_threshold: 50, breaker_window: 30, breaker_cooldown: 1, breaker_max_cooldown: 2 };

type Kind = 'ok' | 'retryable' | 'permanent';
interface AgentRow { agent: string; pid: number | null; state: string }
interface Row { id: string; status: string; error: string | null; lease_holder: string | null }

let server: RealPostgres;
let db: pg.Pool;
const sups: (RunningSupervisor | undefined)[] = [];
const configOf = (x: string) => ({
  queue: { backend: 'postgres', postgres: { url_env: 'AGENTIC_TEST_QUEUE_URL', lease_seconds: LEASE_SECONDS }, max_attempts: MAX_ATTEMPTS, max_depth: 100_000, retry_backoff: { initial: 0.1, max: 0.5 } },
  monitoring: { recovery },
  agents: [{ name: `w${x}`, role: 'w', command: ['node', WORKER, MARKER], replicas: 3, heartbeat_interval: 1, stop_timeout: 2 }],
});
const env = () => ({ AGENTIC_TEST_QUEUE_URL: server.url });
/** The supervisor's id in the fleet (src/supervisor/PgFleet.ts supervisorIdOf): `<hostname>:<state_dir>`. */
const idOf = (s: RunningSupervisor) => `${hostname()}:${s.stateDir}`;
const alive = () => sups.filter((s): s is RunningSupervisor => s !== undefined && s.proc.exitCode === null && s.proc.signalCode === null);
const dbNow = async () => (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;

beforeAll(async () => {
  server = await startPostgres();
  db = new pg.Pool({ connectionString: server.url, max: 2 });
  db.on('error', () => undefined); // idle connections are cut by the PostgreSQL restart: the next query opens a new one
}, 180_000);

afterAll(async () => {
  for (const s of sups) cleanup(s);
  await db?.end();
  await server?.stop();
});

describe('fleet chaos: three supervisors on one PostgreSQL', () => {
  it(`every one of ${TASKS} tasks ends exactly once through agent and supervisor SIGKILLs and a PostgreSQL restart`, async () => {
    const t0 = Date.now();
    for (const x of ['a', 'b', 'c']) sups.push(await startSupervisor(configOf(x), { env: env() }));
    for (const s of sups) {
      await waitFor('3 running replicas', async () => (await s!.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.filter((r) => r.state === 'running').length === 3, WAIT);
    }

    const kinds = new Map<string, Kind>();
    const submit = async (n: number) => {
      for (let i = 0; i < n && kinds.size < TASKS; i++) {
        const r = randomInt(100);
        const kind: Kind = r < 3 ? 'permanent' : r < 5 ? 'retryable' : 'ok';
        const body = { role: 'w', title: `fleet chaos ${kinds.size}`, priority: 1 + randomInt(5), payload: { work_ms: 20 + randomInt(81), fail: kind !== 'ok', permanent: kind === 'permanent' } };
        // Through any live supervisor; a 503 (the database restarting) is answered again.
        const task = await waitFor('a task submitted', async () => {
          const via = alive();
          const res = await via[randomInt(via.length)]!.api<{ task: { id: string } }>('POST', '/api/v1/tasks', body);
          return res.status === 201 ? res.body.task : undefined;
        }, WAIT, 200);
        kinds.set(task.id, kind);
      }
    };

    // The schedule: agent and supervisor kills in a random order, the PostgreSQL restart in the middle.
    const schedule: ('agent' | 'supervisor' | 'postgres')[] = [...Array<'agent'>(AGENT_KILLS).fill('agent'), ...Array<'supervisor'>(SUPERVISOR_KILLS).fill('supervisor')];
    for (let i = schedule.length - 1; i > 0; i--) { const j = randomInt(i + 1); [schedule[i], schedule[j]] = [schedule[j]!, schedule[i]!]; }
    schedule.splice(Math.floor(schedule.length / 2), 0, 'postgres');
    const first = Math.floor(TASKS * 0.4);
    const batch = Math.ceil((TASKS - first) / (schedule.length + 2));
    const done = { agent: 0, supervisor: 0, postgres: 0, heldAtKill: 0 };

    await submit(first);
    for (const action of schedule) {
      await new Promise((r) => setTimeout(r, 200 + randomInt(600))); // a random moment (pacing, not an assertion)
      if (action === 'agent') {
        const s = alive()[randomInt(alive().length)]!;
        const rows = (await s.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.filter((r) => r.pid);
        const victim = rows[randomInt(Math.max(1, rows.length))];
        if (victim?.pid) { try { process.kill(victim.pid, 'SIGKILL'); done.agent++; } catch { /* gone */ } }
      } else if (action === 'supervisor') {
        // A supervisor that holds tasks right now (the backlog is kept ahead of the workers), so its kill matters.
        const holders = await waitFor('a supervisor holding a task', async () => {
          const { rows: held } = await db.query<{ holder: string }>("SELECT DISTINCT lease_holder AS holder FROM tasks WHERE status = 'in_progress'");
          const ids = new Set(held.map((r) => r.holder));
          const found = sups.flatMap((x, n) => (x && ids.has(idOf(x)) ? [n] : []));
          if (found.length) return found;
          if (Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM tasks WHERE status = 'pending'")).rows[0]!.n) === 0) await submit(batch);
          return undefined;
        }, WAIT, 20);
        const i = holders[randomInt(holders.length)]!;
        const s = sups[i]!;
        s.proc.kill('SIGKILL');
        await waitFor('the supervisor\'s death', () => s.proc.exitCode !== null || s.proc.signalCode !== null, WAIT);
        const killedAt = await dbNow();
        done.heldAtKill += Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM tasks WHERE status = 'in_progress' AND lease_holder = $1", [idOf(s)])).rows[0]!.n);
        // Once lease_seconds × 2 have passed by the database's clock, the dead supervisor holds no live lease.
        await waitFor('lease_seconds × 2 by the database clock', async () => (await dbNow()).getTime() >= killedAt.getTime() + LEASE_SECONDS * 2000, WAIT, 200);
        const held = await db.query<Row>("SELECT id, status, error, lease_holder FROM tasks WHERE status = 'in_progress' AND lease_holder = $1 AND NOT (lease_expires_at < clock_timestamp())", [idOf(s)]);
        expect(held.rows).toEqual([]);
        sups[i] = await restartSupervisor(s, { env: env() });
        done.supervisor++;
      } else {
        await server.restart();
        done.postgres++;
      }
      await submit(batch);
    }
    await submit(TASKS - kinds.size);
    expect(kinds.size).toBe(TASKS);

    await waitFor('every task completed or failed', async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM tasks WHERE status NOT IN ('completed', 'failed')")).rows[0]!.n) === 0, 300_000, 500);

    // Every submitted task is in the database once, ended as completed or failed with its reason.
    const { rows } = await db.query<Row>('SELECT id, status, error, lease_holder FROM tasks');
    expect(rows).toHaveLength(TASKS);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(kinds.keys()));
    let failedOutOfAttempts = 0;
    for (const r of rows) {
      const kind = kinds.get(r.id);
      if (kind === 'permanent') expect(r).toMatchObject({ status: 'failed', error: 'asked to fail' });
      // The last of its attempts may have been on an agent the chaos SIGKILLed: then the reason is that crash.
      else if (kind === 'retryable') {
        expect(r.status).toBe('failed');
        expect(r.error).toMatch(new RegExp(`^(asked to fail|agent \\w+-\\d+ exited \\(crash: killed by SIGKILL\\)) \\(gave up after ${MAX_ATTEMPTS} attempts\\)$`));
      }
      else if (r.status === 'failed') { failedOutOfAttempts++; expect(r.error).toMatch(new RegExp(`gave up after ${MAX_ATTEMPTS} attempts`)); }
      else expect(r.status).toBe('completed');
    }
    expect((await db.query("SELECT id FROM tasks WHERE status = 'in_progress'")).rows).toEqual([]);

    // No task completed twice; each completed task has exactly one completed attempt, a failed one none.
    const attempts = await db.query<{ task_id: string; status: string; completed: string; lost: string }>(`
      SELECT t.id AS task_id, t.status,
             count(*) FILTER (WHERE a.cause = 'completed') AS completed,
             count(*) FILTER (WHERE a.cause = 'supervisor_lost') AS lost
        FROM tasks t LEFT JOIN task_attempts a ON a.task_id = t.id GROUP BY t.id, t.status`);
    expect(attempts.rows.filter((r) => r.status === 'completed' && Number(r.completed) !== 1)).toEqual([]);
    expect(attempts.rows.filter((r) => r.status === 'failed' && Number(r.completed) !== 0)).toEqual([]);
    const lostTasks = attempts.rows.filter((r) => Number(r.lost) > 0).length;
    expect(lostTasks).toBeGreaterThan(0); // the supervisor kills mattered
    // all three supervisors worked (their ids are what the lease checks above looked for)
    const workedBy = (await db.query<{ supervisor: string }>('SELECT DISTINCT supervisor FROM task_attempts')).rows.map((r) => r.supervisor);
    expect(new Set(workedBy)).toEqual(new Set(sups.map((s) => idOf(s!))));

    const completed = rows.filter((r) => r.status === 'completed').length;
    console.log(`fleet chaos: ${TASKS} tasks (${completed} completed, ${TASKS - completed} failed: ${[...kinds.values()].filter((k) => k === 'permanent').length} permanent, ${[...kinds.values()].filter((k) => k === 'retryable').length} retryable out of attempts, ${failedOutOfAttempts} others out of attempts), ${done.agent} agent SIGKILLs, ${done.supervisor} supervisor SIGKILLs + restarts (${done.heldAtKill} tasks in progress under them), ${done.postgres} PostgreSQL restart; ${lostTasks} tasks with a supervisor_lost attempt; ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 600_000);
});
