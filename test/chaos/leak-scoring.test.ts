/**
 * Leak scoring with real processes (issue 16): agents whose resident memory follows
 * one shape each — a cache filled late, a one-off late step, a GC sawtooth, and
 * leaks of 4 and 20 MB/min — under the default leak settings (window 300 s, warm-up
 * 60 s, 5 s sampling) for as long as those defaults need (about 6.5 minutes):
 * - each leak is flagged within 5 minutes of its agent's start;
 * - nothing else is ever flagged (no finding, no health log line about its memory);
 * - the 20 MB/min leak, projected to reach max_memory_mb within restart_horizon, is
 *   restarted only after its current task (drain): no task is ever interrupted, and
 *   its finding stays on record across the restart it caused;
 * - the 4 MB/min leak, hours from the limit, is degraded (alerting) and not restarted.
 *
 * It runs in CI's Node 20 suite in parallel with other files; .ci/node24.sh leaves it
 * out of the Node 24 rerun (the CI budget), so it runs once per CI run.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HealthReportJson } from '../../src/health/report.js';
import { cleanup, startSupervisor, type RunningSupervisor } from '../helpers/harness.js';

const SHAPE = path.resolve(import.meta.dirname, '../fixtures/health/memory-shape.mjs');
/** Long enough for a leak present from the start to be judged (warmup 60 s + 0.6 × window 300 s + persistence) and for the late shapes to have settled past the point where they were flagged in issue 16. */
const RUN_SECONDS = 390;
const LEAK_TARGET_SECONDS = 300;
const TASK_MS = 15_000;

interface Agent { name: string; shape: string; leak: boolean; env?: Record<string, string> }
const AGENTS: Agent[] = [
  { name: 'leakslow', shape: 'leak', leak: true, env: { LEAK_MB_PER_MIN: '4' } },
  { name: 'leakfast', shape: 'leak', leak: true, env: { LEAK_MB_PER_MIN: '20' } },
  { name: 'cachelate', shape: 'cache_late', leak: false },
  { name: 'steplate', shape: 'step_late', leak: false },
  { name: 'sawtooth', shape: 'sawtooth', leak: false },
  { name: 'flat', shape: 'flat', leak: false },
];

interface TaskRow { id: string; role: string; status: string; attempt: number; error: string | null }
interface AgentRow { agent: string; replica: string; pid: number | null; uptime_seconds: number | null; restarts_by_reason: Record<string, number> }

describe('leak scoring with real processes at the default leak settings', () => {
  let sup: RunningSupervisor | undefined;
  afterAll(() => cleanup(sup));

  it(`flags the 4 and 20 MB/min leaks within ${LEAK_TARGET_SECONDS}s, nothing else in ${RUN_SECONDS}s, and interrupts no task`, async () => {
    sup = await startSupervisor({
      monitoring: {
        sample_interval: 5,
        check_interval: 5,
        // 20 MB/min from ~60 MB reaches 512 MB in ~23 min (under the 30 min horizon); 4 MB/min needs ~2 h (over it).
        health_checks: { resource_usage: { max_memory_mb: 512 }, memory_leaks: { restart_horizon: 1800 } },
        recovery: { restart_unhealthy: true, stable_uptime: 30 },
      },
      agents: AGENTS.map((a) => ({ name: a.name, command: [process.execPath, '--expose-gc', SHAPE], env: { SHAPE: a.shape, TASK_MS: String(TASK_MS), ...a.env }, heartbeat_interval: 5, stop_timeout: 5 })),
    }, { readyTimeoutMs: 60_000 }); // a loaded CI machine starts it slowly; the run itself is long anyway
    const s = sup;
    const started = Date.now();
    const firstFlag = new Map<string, number>();
    const falseFlags: string[] = [];
    const submitted: string[] = [];
    // Work for the leakers all along: a restart for a leak must wait for the task in hand.
    const feed = async () => {
      for (const role of ['leakfast', 'leakslow']) {
        const q = await s.api<{ tasks: TaskRow[] }>('GET', `/api/v1/tasks?role=${role}&status=pending`);
        if (q.body.tasks.length === 0) {
          const r = await s.api<{ task: TaskRow }>('POST', '/api/v1/tasks', { role, title: `work for ${role}` });
          expect(r.status).toBe(201);
          submitted.push(r.body.task.id);
        }
      }
    };
    let pidFast: number | null = null;
    let sawCarried = false;
    while (Date.now() - started < RUN_SECONDS * 1000) {
      await feed();
      const h = await s.api<HealthReportJson>('GET', '/api/v1/health');
      for (const a of h.body.agents) {
        const leak = a.findings.find((f) => f.check === 'memory_leaks');
        if (!leak) continue;
        const spec = AGENTS.find((x) => x.name === a.agent)!;
        if (!spec.leak) falseFlags.push(`${Math.round((Date.now() - started) / 1000)}s ${a.replica}: ${leak.message}`);
        else if (!firstFlag.has(a.agent)) firstFlag.set(a.agent, Date.now() - started);
        if (a.agent === 'leakfast' && leak.message.includes('the previous process')) sawCarried = true;
      }
      const agents = (await s.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents;
      pidFast ??= agents.find((x) => x.agent === 'leakfast')?.pid ?? null;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const log = s.output();
    console.log(`[leak-scoring] flagged after ${[...firstFlag].map(([a, ms]) => `${a} ${(ms / 1000).toFixed(0)}s`).join(', ')}; false flags: ${falseFlags.length}`);

    // Each leak within 5 minutes of the start; nothing else, ever (API and log).
    for (const a of AGENTS.filter((x) => x.leak)) expect(firstFlag.get(a.name), a.name).toBeLessThanOrEqual(LEAK_TARGET_SECONDS * 1000);
    expect(falseFlags).toEqual([]);
    for (const a of AGENTS.filter((x) => !x.leak)) {
      expect(log.split('\n').filter((l) => l.includes('"health_check":"memory_leaks"') && l.includes(`"replica":"${a.name}-0"`)), a.name).toEqual([]);
    }

    // The fast leak was restarted (after its task), the slow one was not; no other restart.
    const agents = (await s.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents;
    const by = (n: string) => agents.find((x) => x.agent === n)!;
    expect(by('leakfast').restarts_by_reason.unhealthy ?? 0).toBeGreaterThanOrEqual(1);
    expect(by('leakfast').pid).not.toBe(pidFast);
    // (any other restart would be for something else than memory: named in the log)
    const other = log.split('\n').filter((l) => l.includes('because it is unhealthy') && !l.includes('"replica":"leakfast-0"'));
    expect(other).toEqual([]);
    for (const a of AGENTS.filter((x) => x.name !== 'leakfast')) expect(by(a.name).restarts_by_reason, a.name).toEqual({});
    // drained when it held a task (it nearly always does: work is queued for it all along)
    expect(log).toMatch(/restart requested for leakfast-0( after its current task: leakfast-0 finishes \S+ and takes no new task)?/);
    // Its finding outlived the restart it caused: never resolved, shown as the previous process's while the new one warmed up.
    expect(sawCarried).toBe(true);
    expect(log.split('\n').filter((l) => l.includes('"replica":"leakfast-0"') && l.includes('"health_check":"memory_leaks"') && /resolved/i.test(l))).toEqual([]);

    // No task was interrupted: every task ran once (attempt 1) and none failed or was re-queued.
    const tasks = (await s.api<{ tasks: TaskRow[] }>('GET', '/api/v1/tasks?limit=1000')).body.tasks.filter((t) => submitted.includes(t.id));
    expect(tasks.length).toBeGreaterThan(10);
    expect(tasks.filter((t) => t.attempt > 1 || t.status === 'failed' || t.error !== null).map((t) => `${t.id} ${t.role} ${t.status} attempt ${t.attempt}: ${t.error}`)).toEqual([]);
    expect(tasks.filter((t) => t.status === 'completed').length).toBeGreaterThan(10);
  }, (RUN_SECONDS + 90) * 1000);
});
