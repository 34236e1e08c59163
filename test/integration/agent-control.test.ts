import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { cleanup, processesWith, restartSupervisor, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { healthRoundAfter } from '../helpers/health.js';

/**
 * Per-agent `background stop|start <agent>` with a real supervisor and real agents: a
 * stopped replica's process is gone, it is not missing capacity (no finding, no restart),
 * it stays stopped across a supervisor stop and start, and `start` brings it back; a
 * per_task agent's run ends with its task back in the queue (no attempt used) and its
 * tasks wait until it is started.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const WAIT = 60_000; // a bound, not a wait: the machine may be loaded

interface Row { agent: string; replica: string; state: string; pid: number | null; restarts: number }
interface Fleet { agents: { configured: number; up: number; down: string[]; stopped: string[] }; replicas: { configured: number; up: number; stopped: number }; slots: { configured: number; busy: number } }
interface Task { id: string; status: string; attempts: number; attempt_history?: { cause: string | null }[] }

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('background stop <agent> and start <agent>', () => {
  const marker = `ctl${randomUUID().slice(0, 8)}`;
  let sup: RunningSupervisor;
  const work = mkdtempSync(path.join(tmpdir(), 'agent-control-'));
  const release = path.join(work, 'release');
  const rows = async () => (await sup.api<{ agents: Row[]; fleet: Fleet }>('GET', '/api/v1/status')).body;
  const row = async (replica: string) => (await rows()).agents.find((a) => a.replica === replica);
  const task = async (id: string) => (await sup.api<{ task: Task }>('GET', `/api/v1/tasks/${id}`)).body.task;
  const submit = async (role: string, title: string) => {
    const r = await sup.api<{ task: Task }>('POST', '/api/v1/tasks', { role, title });
    expect(r.status).toBe(201);
    return r.body.task.id;
  };
  /** A health round that began after `since` (epoch ms): its verdicts saw the fleet as it is now. */
  const healthAfter = (since: number) => healthRoundAfter<{ checked_at: string | null; verdict: string; system: Fleet & { findings: unknown[] }; agents: { replica: string; state: string; verdict: string; findings: unknown[] }[] }>(sup, since, WAIT);

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'w', command: ['node', WORKER, `worker-${marker}`], replicas: 2, stop_timeout: 5 },
        // Runs until the release file exists, then a run ends at once (exit 0: the task is done).
        { name: 'p', mode: 'per_task', max_concurrent: 1, stop_timeout: 5, command: ['sh', '-c', `while [ ! -e '${release}' ]; do sleep 0.2; done`, `perTask-${marker}`] },
      ],
      monitoring: { check_interval: 1 },
    });
    await waitFor('w-0 and w-1 running', async () => (await rows()).agents.filter((a) => a.agent === 'w' && a.state === 'running').length === 2, WAIT);
  }, 120_000);

  afterAll(() => {
    cleanup(sup);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses without the API token (401) or with a wrong one (403), answers JSON 404 for an unknown agent and 400 for a per_task slot', async () => {
    for (const action of ['stop', 'start']) {
      const none = await fetch(`${sup.url}/api/v1/agents/w/${action}`, { method: 'POST' });
      expect(none.status).toBe(401);
      const wrong = await fetch(`${sup.url}/api/v1/agents/w/${action}`, { method: 'POST', headers: { authorization: 'Bearer not-the-token-at-all' } });
      expect(wrong.status).toBe(403);
      const unknown = await sup.api<{ error: string; reason: string }>('POST', `/api/v1/agents/nope/${action}`, {});
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('unknown_agent');
      const slot = await sup.api<{ error: string; reason: string }>('POST', `/api/v1/agents/p-0/${action}`, {});
      expect(slot.status).toBe(400);
      expect(slot.body).toMatchObject({ error: 'per_task_slot', reason: expect.stringMatching(/per_task agent p/) });
    }
    expect((await row('w-0'))?.state).toBe('running');
    const cli = await sup.cli(['background', 'stop', 'nope']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/Unknown agent "nope"/);
  }, 120_000);

  it('stops one replica: its process is gone, no finding and no restart, every surface says stopped', async () => {
    const before = await row('w-1');
    const pid = before?.pid as number;
    expect(alive(pid)).toBe(true);
    const stoppedAt = Date.now();
    const r = await sup.cli(['background', 'stop', 'w-1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, action: 'stop', target: 'w-1', agent: 'w', changed: ['w-1'], state_changed: true });
    expect(alive(pid)).toBe(false); // the answer comes once the process has ended
    expect(processesWith(`worker-${marker}`)).toHaveLength(1);

    const again = await sup.cli(['background', 'stop', 'w-1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^w-1 was already stopped/);

    const h = await healthAfter(stoppedAt);
    expect(h.verdict).toBe('healthy');
    expect(h.system.findings).toEqual([]);
    expect(h.agents.find((a) => a.replica === 'w-1')).toMatchObject({ state: 'stopped', verdict: 'healthy', findings: [] });
    const { agents, fleet } = await rows();
    expect(agents.find((a) => a.replica === 'w-1')).toMatchObject({ state: 'stopped', pid: null, restarts: before?.restarts });
    const expected = { agents: { configured: 2, up: 2, down: [], stopped: [] }, replicas: { configured: 2, up: 1, stopped: 1 }, slots: { configured: 1, busy: 0 } };
    expect(fleet).toEqual(expected);
    expect({ agents: h.system.agents, replicas: h.system.replicas, slots: h.system.slots }).toEqual(expected);
    const status = await sup.cli(['background', 'status']);
    expect(status.stdout).toContain('2/2 agents up (replicas 1/2 (1 stopped), slots 0/1 busy)');
    expect(status.stdout).toMatch(/\sw-1\s+stopped/);
    const m = parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    expect(m.value('agentic_agent_up', { agent: 'w', role: 'w', replica: '1' })).toBe(0);
    expect(m.value('agentic_agent_state', { agent: 'w', role: 'w', replica: '1', state: 'stopped' })).toBe(1);
    expect(m.value('agentic_replicas_stopped', { role: 'w' })).toBe(1);
    expect(m.value('agentic_replicas_up', { role: 'w' })).toBe(1);
  }, 180_000);

  it('stops a per_task agent mid-run: the task goes back to the queue with no attempt used, and new tasks wait', async () => {
    const id = await submit('p', 'waits for the release file');
    await waitFor('the run of p', async () => (await task(id)).status === 'in_progress' && processesWith(`perTask-${marker}`).length > 0, WAIT);
    const r = await sup.cli(['background', 'stop', 'p']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Stopped p: no new run starts; ended 1 run \(p-0\), their tasks are pending again with no attempt used/);
    expect(processesWith(`perTask-${marker}`)).toEqual([]);
    const t = await task(id);
    expect(t).toMatchObject({ status: 'pending', attempts: 0 });
    expect(t.attempt_history?.at(-1)?.cause).toBe('supervisor_stopped');
    const h = await healthAfter(Date.now());
    expect(h.verdict).toBe('healthy');
    expect(h.system.agents).toEqual({ configured: 2, up: 1, down: [], stopped: ['p'] });
    expect((await task(id)).status).toBe('pending'); // still waiting, rounds later
    expect((await row('p'))?.state).toBe('stopped');
  }, 180_000);

  it('keeps w-1 and p stopped across a supervisor stop and start; start brings them back and the waiting task is done', async () => {
    const pending = (await sup.api<{ tasks: Task[] }>('GET', '/api/v1/tasks?status=pending')).body.tasks.map((t) => t.id);
    expect(pending).toHaveLength(1);
    expect(await sup.stop()).toBe(0);
    expect(processesWith(`worker-${marker}`)).toEqual([]);
    sup = await restartSupervisor(sup);
    await waitFor('w-0 running again', async () => (await row('w-0'))?.state === 'running', WAIT);
    const h = await healthAfter(Date.now());
    expect(h.verdict).toBe('healthy');
    expect((await row('w-1'))?.state).toBe('stopped');
    expect((await row('p'))?.state).toBe('stopped');
    expect(processesWith(`worker-${marker}`)).toHaveLength(1);
    expect(processesWith(`perTask-${marker}`)).toEqual([]);
    expect((await task(pending[0] as string)).status).toBe('pending');

    const w1 = await sup.cli(['background', 'start', 'w-1']);
    expect(w1.code, w1.stderr).toBe(0);
    expect(w1.stdout).toMatch(/^Started w-1 \(w-1\)/);
    await waitFor('w-1 running', async () => (await row('w-1'))?.state === 'running', WAIT);
    expect(processesWith(`worker-${marker}`)).toHaveLength(2);

    writeFileSync(release, '');
    const p = await sup.cli(['background', 'start', 'p', '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout)).toMatchObject({ ok: true, action: 'start', target: 'p', state_changed: true });
    await waitFor('the waiting task done', async () => (await task(pending[0] as string)).status === 'completed', WAIT);
    expect((await sup.cli(['background', 'start', 'p'])).stdout).toMatch(/^p was not stopped: nothing to do/);
  }, 240_000);

  it('stops a whole service agent: its tasks wait; start runs them; restart does not start a stopped agent', async () => {
    const r = await sup.cli(['background', 'stop', 'w']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Stopped w \(w-0, w-1\); it stays stopped/);
    expect(processesWith(`worker-${marker}`)).toEqual([]);
    expect((await rows()).fleet.agents).toEqual({ configured: 2, up: 1, down: [], stopped: ['w'] });
    const id = await submit('w', 'waits for w');
    const restart = await sup.cli(['background', 'restart', 'w']);
    expect(restart.code).toBe(2);
    expect(restart.stderr).toMatch(/w is stopped \(background stop\), and a restart does not start it: start it with background start w/);
    expect((await sup.api('POST', '/api/v1/agents/w-0/restart', { reason: 'alert', alertname: 'AgentDown' })).status).toBe(409);
    const h = await healthAfter(Date.now());
    expect(h.verdict).toBe('healthy');
    expect((await task(id)).status).toBe('pending');
    expect(processesWith(`worker-${marker}`)).toEqual([]);
    const s = await sup.cli(['background', 'start', 'w']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/^Started w \(w-0, w-1\)/);
    await waitFor('the task done by w', async () => (await task(id)).status === 'completed', WAIT);
    expect(processesWith(`worker-${marker}`)).toHaveLength(2);
    expect(existsSync(release)).toBe(true);
  }, 240_000);
});
