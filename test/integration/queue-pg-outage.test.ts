import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';

/**
 * A supervisor on PostgreSQL while the database is down (a real server, stopped with
 * `pg_ctl stop -m fast` and started again): the agent keeps running its task, the
 * outcome it reports is held in memory and written once the database is back (the task
 * completes once, in one attempt, although the outage outlasted the lease), the API
 * answers 503 meanwhile, and dispatch resumes.
 */
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const WAIT = 60_000;

interface Task { id: string; status: string; attempts: number; attempt_history: { cause: string | null }[] }

let server: RealPostgres;
let sup: RunningSupervisor | undefined;
const work = mkdtempSync(path.join(tmpdir(), 'pg-outage-'));
beforeAll(async () => { server = await startPostgres(); }, 180_000);
afterAll(async () => {
  cleanup(sup);
  await server?.resume().catch(() => undefined);
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

const taskOf = async (id: string) => (await sup!.api<{ task: Task }>('GET', `/api/v1/tasks/${id}`)).body.task;

describe('the fleet\'s PostgreSQL goes down and comes back', () => {
  it('keeps the agent and its task, holds the outcome until the database is back, answers 503 meanwhile, then dispatches again', async () => {
    sup = await startSupervisor({
      queue: { backend: 'postgres', postgres: { url_env: 'AGENTIC_TEST_QUEUE_URL', lease_seconds: 3 } },
      agents: [{ name: 'w', command: ['node', WORKER], heartbeat_interval: 1 }],
    }, { env: { AGENTIC_TEST_QUEUE_URL: server.url } });
    await waitFor('w-0 running', async () => (await sup!.api<{ agents: { state: string }[] }>('GET', '/api/v1/agents')).body.agents[0]?.state === 'running', WAIT);
    const deliveries = path.join(work, 'deliveries');
    const t = (await sup.api<{ task: Task }>('POST', '/api/v1/tasks', { role: 'w', title: 'across an outage', payload: { work_ms: 4000, deliveries_file: deliveries } })).body.task;
    await waitFor('the task in progress', async () => (await taskOf(t.id)).status === 'in_progress', WAIT);
    const agentPid = (await sup.api<{ agents: { pid: number }[] }>('GET', '/api/v1/agents')).body.agents[0]?.pid;

    await server.pause();
    const down = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', { role: 'w', title: 'while down' });
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('queue_unavailable');
    await waitFor('the completion held in memory', () => sup!.output().includes(`could not record that task ${t.id} completed: the queue's database is unreachable; the outcome is held in memory`), WAIT);
    const agents = (await sup.api<{ agents: { pid: number; state: string }[] }>('GET', '/api/v1/agents')).body.agents;
    expect(agents[0]).toMatchObject({ pid: agentPid, state: 'running' }); // the agent kept running
    await server.resume();

    const done = await waitFor('the held completion written', async () => { const x = await taskOf(t.id); return x.status === 'completed' ? x : undefined; }, WAIT);
    expect(done.attempts).toBe(1);
    expect(done.attempt_history.map((h) => h.cause)).toEqual(['completed']); // not taken over: the outage outlasted the 3 s lease, but no other supervisor took it
    expect(readFileSync(deliveries, 'utf8').split('\n').filter(Boolean)).toEqual(['1']); // delivered once
    expect(sup.output()).toContain(`held outcome written: record that task ${t.id} completed`);

    // The LISTEN connection dropped with the server and was opened again (with backoff)
    expect(sup.output()).toContain('lost the PostgreSQL LISTEN connection');
    await waitFor('LISTEN again', () => sup!.output().includes('listening to the fleet\'s task notifications again'), WAIT);
    // Dispatch resumes (new tasks are taken again)
    const next = (await sup.api<{ task: Task }>('POST', '/api/v1/tasks', { role: 'w', title: 'after', payload: { work_ms: 10 } })).body.task;
    await waitFor('the next task completed', async () => (await taskOf(next.id)).status === 'completed', WAIT);
  }, 240_000);
});
