import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, processesWith, restartSupervisor, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * The chaos soak (`npm run test:chaos`, also part of `npm test`): 10 agents and
 * hundreds of tasks under random SIGKILLs, SIGSTOP hangs, a crash-looping agent
 * and one SIGKILL + restart of the supervisor itself. Bounded by CHAOS_SECONDS
 * (default 120); every loop stops by itself.
 */
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 120);
const TASKS = Number(process.env.CHAOS_TASKS ?? 400);
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const MARKER = `chaos${randomUUID().slice(0, 8)}`;
const recovery = { restart_attempts: 4, base_delay: 0.2, max_delay: 2, jitter: 0.2, circuit_breaker_threshold: 6, breaker_window: 30, breaker_cooldown: 5, breaker_max_cooldown: 10, stable_uptime: 10 };

interface Task { id: string; status: string; attempts: number; error: string | null; payload: { fail?: boolean; permanent?: boolean } | null }
interface AgentRow { agent: string; replica: string; state: string; pid: number | null }

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const zombies = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
  try { const s = readFileSync(`/proc/${n}/stat`, 'utf8'); return s.slice(s.lastIndexOf(')') + 2).startsWith('Z'); } catch { return false; }
}).length;

describe('chaos soak', () => {
  let sup: RunningSupervisor | undefined;
  afterAll(() => cleanup(sup));

  it(`keeps every task accounted for through ${SECONDS}s of chaos`, async () => {
    const zombiesBefore = zombies();
    sup = await startSupervisor({
      queue: { max_attempts: 6, max_depth: 100_000, retry_backoff: { initial: 0.2, max: 2 } },
      monitoring: { recovery, sample_interval: 1 },
      agents: [
        { name: 'w', command: ['node', WORKER, MARKER], replicas: 7, heartbeat_interval: 1, stop_timeout: 2 },
        { name: 'crashy', command: ['node', WORKER, MARKER], env: { WORKER_CRASH_ON_START: '1' } },
        { name: 'plain', command: [path.join(ROOT, 'test/fixtures/agents/tree.sh')], replicas: 2, env: { MARKER }, stop_timeout: 2 },
      ],
    });
    const startRss = rssKb(sup.proc.pid as number);
    const submitted = new Map<string, { permanent: boolean }>();
    const submitBatch = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const permanent = randomInt(100) < 4;
        const r = await sup!.api<{ task: Task }>('POST', '/api/v1/tasks', { role: 'w', title: `chaos ${submitted.size}`, priority: 1 + randomInt(10), payload: { work_ms: 20 + randomInt(200), fail: permanent, permanent } });
        expect(r.status).toBe(201);
        submitted.set(r.body.task.id, { permanent });
      }
    };
    await submitBatch(Math.floor(TASKS / 2));

    const actions = { kill: 0, stop: 0, supervisorKill: 0 };
    const deadline = Date.now() + SECONDS * 1000;
    const half = Date.now() + (SECONDS * 1000) / 2;
    let supervisorKilled = false;
    while (Date.now() < deadline) {
      if (!supervisorKilled && Date.now() > half) {
        supervisorKilled = true;
        actions.supervisorKill++;
        sup.proc.kill('SIGKILL');
        await waitFor('supervisor death', () => sup!.proc.exitCode !== null || sup!.proc.signalCode !== null);
        sup = await restartSupervisor(sup);
        await submitBatch(TASKS - submitted.size);
        continue;
      }
      const rows = (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents.filter((a) => a.agent !== 'crashy' && a.pid);
      const victim = rows[randomInt(Math.max(1, rows.length))];
      if (victim?.pid) {
        if (randomInt(3) === 0) {
          actions.stop++;
          try { process.kill(victim.pid, 'SIGSTOP'); } catch { /* gone */ }
          setTimeout(() => { try { process.kill(victim.pid as number, 'SIGCONT'); } catch { /* gone */ } }, 1500).unref();
        } else {
          actions.kill++;
          try { process.kill(victim.pid, 'SIGKILL'); } catch { /* gone */ }
        }
      }
      await new Promise((r) => setTimeout(r, 300 + randomInt(500)));
    }

    // Let the queue drain (SIGSTOPped agents are continued by their timers).
    await waitFor('the queue to drain', async () => {
      const pending = (await sup!.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=pending&limit=1')).body.tasks.length;
      const running = (await sup!.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=in_progress&limit=1')).body.tasks.length;
      return pending === 0 && running === 0;
    }, 120_000, 500);

    const completed = (await sup.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=completed&limit=10000')).body.tasks;
    const failed = (await sup.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=failed&limit=10000')).body.tasks;
    const seen = new Set([...completed, ...failed].map((t) => t.id));
    const missing = [...submitted.keys()].filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
    expect(seen.size).toBe(submitted.size);
    for (const t of failed) {
      // dead-lettered exactly as recorded: asked to fail permanently, or out of attempts with the reason kept
      if (submitted.get(t.id)?.permanent) expect(t.error).toBe('asked to fail');
      else expect(t.error).toMatch(/gave up after 6 attempts/);
    }
    for (const t of completed) expect(submitted.get(t.id)?.permanent).toBe(false);

    // Restarts stayed within the backoff bounds.
    const lines = readFileSync(path.join(sup.stateDir, 'logs/supervisor.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { restart_in_ms?: number });
    const delays = lines.map((l) => l.restart_in_ms).filter((d): d is number => d !== undefined);
    expect(delays.length).toBeGreaterThan(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(recovery.max_delay * 1000 + 50);

    const endRss = rssKb(sup.proc.pid as number);
    const stop = await sup.cli(['background', 'stop']);
    expect(stop.code).toBe(0);
    await waitFor('no agent processes left', () => processesWith(MARKER).length === 0 /* every agent carries MARKER in argv or env: other test files run worker.mjs too */, 20_000);
    // A zombie may exist for a moment between an exit and its reaping; none may linger.
    await waitFor('no lingering zombie', () => zombies() <= zombiesBefore, 10_000);
    console.log(`chaos: ${submitted.size} tasks (${completed.length} completed, ${failed.length} dead-lettered), ${actions.kill} SIGKILLs, ${actions.stop} SIGSTOP hangs, ${actions.supervisorKill} supervisor SIGKILL; ${delays.length} backoff restarts, max delay ${Math.max(...delays)} ms; supervisor RSS ${Math.round(startRss / 1024)} MB → ${Math.round(endRss / 1024)} MB (second process after the restart)`);
  }, (SECONDS + 240) * 1000);
});
