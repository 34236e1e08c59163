import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cleanup, processesWith, ROOT, runCli, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * `background reload --config <file>` (and SIGHUP) with a real supervisor and real agent
 * processes: a new agent starts, a removed one stops (its task back in the queue, no
 * attempt used), a changed one restarts (new pid), an unchanged one keeps its pid; an
 * operator's stop and scale hold; an invalid config and a setting that cannot change
 * live are refused with exit 2 and the fleet untouched.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const WAIT = 60_000; // a bound, not a wait: the machine may be loaded

interface Row { agent: string; replica: string; state: string; pid: number | null }
interface Task { id: string; status: string; attempts: number; assigned_to: string | null; attempt_history?: { cause: string | null }[] }
type Agent = Record<string, unknown> & { name: string };

describe('background reload', () => {
  const marker = `rld${randomUUID().slice(0, 8)}`;
  const worker = (name: string, extra: Record<string, unknown> = {}): Agent => ({ name, command: ['node', WORKER, `${name}-${marker}`], stop_timeout: 5, ...extra });
  let sup: RunningSupervisor;
  let file: string;
  const rows = async () => (await sup.api<{ agents: Row[] }>('GET', '/api/v1/status')).body.agents;
  const pidsOf = async () => new Map((await rows()).map((r) => [r.replica, r.pid]));
  const task = async (id: string) => (await sup.api<{ task: Task }>('GET', `/api/v1/tasks/${id}`)).body.task;
  const writeAgents = (agents: Agent[], target = file, extra: Record<string, unknown> = {}) => {
    const doc = parse(readFileSync(file, 'utf8')) as { background: Record<string, unknown> };
    writeFileSync(target, stringify({ background: { ...doc.background, ...extra, agents } }));
  };
  const running = (replicas: string[]) => waitFor(`${replicas.join(', ')} running`, async () => {
    const r = await rows();
    return replicas.every((id) => r.some((x) => x.replica === id && x.state === 'running' && x.pid)) ? r : undefined;
  }, WAIT);
  const reload = (args: string[] = []) => sup.cli(['background', 'reload', '--config', file, ...args]);

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [worker('keep'), worker('change', { env: { LEVEL: 'info' } }), worker('gone', { role: 'g' }), worker('held'), worker('scaled')],
      monitoring: { check_interval: 1 },
    });
    file = path.join(sup.dir, 'config.yaml');
    await running(['keep-0', 'change-0', 'gone-0', 'held-0', 'scaled-0']);
  }, 120_000);

  afterAll(() => cleanup(sup));

  it('refuses unauthorised, malformed and oversized requests with a JSON reason', async () => {
    expect((await fetch(`${sup.url}/api/v1/reload`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${sup.url}/api/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(403);
    const malformed = await sup.api<{ error: string }>('POST', '/api/v1/reload', { config_file: 5 });
    expect(malformed.status).toBe(400);
    const unknownKey = await sup.api<{ error: string }>('POST', '/api/v1/reload', { file: '/x.yaml' });
    expect(unknownKey.status).toBe(400);
    const relative = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/reload', { config_file: 'config.yaml' });
    expect(relative).toMatchObject({ status: 400, body: { error: 'bad_request', reason: expect.stringMatching(/absolute path/) } });
    const long = await sup.api<{ error: string }>('POST', '/api/v1/reload', { config_file: `/${'x'.repeat(5000)}` });
    expect(long.status).toBe(400);
  }, 60_000);

  it('refuses an invalid config with the loader\'s own error, exit 2, and touches nothing', async () => {
    const before = await pidsOf();
    const bad = path.join(sup.dir, 'bad.yaml');
    writeAgents([worker('keep', { replicas: 0 }), worker('extra')], bad);
    const r = await sup.cli(['background', 'reload', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/background\.agents\[0\]\.replicas: expected .*got 0/);
    // The same error `start` gives for this file, word for word.
    const start = await runCli(['background', 'start', '--foreground', '--config', bad]);
    expect(start.code).toBe(2);
    expect(r.stderr).toBe(start.stderr);
    // Through the API (the supervisor loads the file itself): 400 with the problems.
    const api = await sup.api<{ error: string; problems: { path: string; message: string }[] }>('POST', '/api/v1/reload', { config_file: bad });
    expect(api.status).toBe(400);
    expect(api.body.error).toBe('invalid_config');
    expect(api.body.problems[0]?.path).toBe('background.agents[0].replicas');
    expect(await pidsOf()).toEqual(before);
    expect(processesWith(`extra-${marker}`)).toEqual([]);
  }, 60_000);

  it('refuses a setting that cannot change live, naming the key, exit 2, and touches nothing', async () => {
    const before = await pidsOf();
    const other = path.join(sup.dir, 'port.yaml');
    writeAgents([worker('keep'), worker('extra')], other, { server: { port: 1 } });
    const r = await sup.cli(['background', 'reload', '--config', other, '--json']);
    expect(r.code).toBe(2);
    const err = JSON.parse(r.stderr) as { ok: boolean; error: { code: string; message: string } };
    expect(err.ok).toBe(false);
    expect(err.error.code).toBe('not_reloadable');
    expect(err.error.message).toMatch(/background\.server\.port cannot change while the supervisor runs .*restart the supervisor/);
    const api = await sup.api<{ error: string; keys: { key: string }[] }>('POST', '/api/v1/reload', { config_file: other });
    expect(api.status).toBe(409);
    expect(api.body.keys.map((k) => k.key)).toEqual(['background.server.port']);
    expect(await pidsOf()).toEqual(before);
    expect(processesWith(`extra-${marker}`)).toEqual([]);
  }, 60_000);

  it('adds, removes (its task back in the queue, no attempt used), restarts what changed and keeps the rest; stop and scale hold', async () => {
    // A task held by `gone` that it would take ten minutes over.
    const deliveries = path.join(sup.dir, 'deliveries');
    const submitted = await sup.api<{ task: Task }>('POST', '/api/v1/tasks', { role: 'g', title: 'outlives its agent', payload: { deliveries_file: deliveries, slow_first: 1, work_ms: 50 } });
    expect(submitted.status).toBe(201);
    const id = submitted.body.task.id;
    await waitFor('gone-0 working on the task', async () => (await task(id)).status === 'in_progress', WAIT);
    expect((await sup.cli(['background', 'stop', 'held'])).code).toBe(0);
    const scaled = await sup.cli(['background', 'scale', 'scaled', '2']);
    expect(scaled.code, scaled.stderr).toBe(0);
    const before = await running(['keep-0', 'change-0', 'gone-0', 'scaled-0', 'scaled-1']);
    const pid = (replica: string) => before.find((r) => r.replica === replica)?.pid;

    writeAgents([
      worker('keep', { stop_timeout: '5s' }), // the same, spelled otherwise
      worker('change', { env: { LEVEL: 'debug' } }),
      worker('held', { env: { NEW: '1' } }),
      worker('scaled'),
      worker('fresh', { role: 'g', replicas: 2 }),
    ]);
    const r = await reload(['--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toEqual({
      ok: true, action: 'reload', file, warnings: [],
      added: [{ agent: 'fresh', mode: 'service', started: ['fresh-0', 'fresh-1'], held: [], stopped: [] }],
      removed: [{ agent: 'gone', mode: 'service', started: [], held: [], stopped: ['gone-0'] }],
      changed: [
        { agent: 'change', mode: 'service', keys: ['env.LEVEL'], restarted: true, started: ['change-0'], held: [], stopped: ['change-0'] },
        { agent: 'held', mode: 'service', keys: ['env.NEW'], restarted: true, started: [], held: ['held-0'], stopped: ['held-0'] },
      ],
      unchanged: ['keep', 'scaled'],
    });
    expect(processesWith(`gone-${marker}`)).toEqual([]); // answered once it is gone
    const after = await running(['keep-0', 'change-0', 'scaled-0', 'scaled-1', 'fresh-0', 'fresh-1']);
    const now = (replica: string) => after.find((x) => x.replica === replica);
    expect(now('keep-0')?.pid).toBe(pid('keep-0'));
    expect(now('scaled-0')?.pid).toBe(pid('scaled-0'));
    expect(now('scaled-1')?.pid).toBe(pid('scaled-1')); // the scale holds: the config's replicas did not change
    expect(now('change-0')?.pid).not.toBe(pid('change-0'));
    expect(now('held-0')).toMatchObject({ state: 'stopped', pid: null }); // an operator's stop holds
    expect(processesWith(`held-${marker}`)).toEqual([]);
    expect(after.some((x) => x.agent === 'gone')).toBe(false);
    expect(after.map((x) => x.replica)).toEqual(['keep-0', 'change-0', 'held-0', 'scaled-0', 'scaled-1', 'fresh-0', 'fresh-1']);
    // The task `gone` held went back to the queue with no attempt used, and `fresh` (same role) did it.
    const t = await waitFor('the task done by fresh', async () => { const x = await task(id); return x.status === 'completed' ? x : undefined; }, WAIT);
    expect(t.attempts).toBe(1);
    expect(t.assigned_to).toMatch(/^fresh-/);
    expect(readFileSync(deliveries, 'utf8').split('\n').filter(Boolean)).toHaveLength(2); // delivered twice, one attempt counted
    expect(t.attempt_history?.[0]?.cause).toBe('supervisor_stopped');

    const human = await reload();
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe(`Reloaded ${file}: nothing changed\n  unchanged keep, change, held, scaled, fresh (not touched)\n`);

    const events = (await sup.api<{ events: { kind: string; agent: string | null; detail: { message: string } }[] }>('GET', '/api/v1/events?limit=100')).body.events;
    const reloads = events.filter((e) => e.kind === 'reload');
    expect(reloads[1]).toMatchObject({ agent: null, detail: { message: `config reloaded from ${file}: added fresh; removed gone; changed change (env.LEVEL, restarted), held (env.NEW, restarted); 2 unchanged` } });
  }, 240_000);

  it('a replicas change scales without restarting, and the config\'s new count wins over background scale', async () => {
    const before = await running(['scaled-0', 'scaled-1', 'fresh-0', 'fresh-1']);
    const pid = (replica: string) => before.find((r) => r.replica === replica)?.pid;
    writeAgents([worker('keep'), worker('change', { env: { LEVEL: 'debug' } }), worker('held', { env: { NEW: '1' } }), worker('scaled', { replicas: 3 }), worker('fresh', { role: 'g' })]);
    const r = await reload();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  changed   scaled [replicas] not restarted: started scaled-2');
    expect(r.stdout).toContain('  changed   fresh [replicas] not restarted: stopped fresh-1');
    // The scale to 2 was made when the config said 1; the config now says 3: 3 it is.
    const after = await waitFor('scaled has 3 replicas, fresh 1', async () => {
      const x = await rows();
      const n = (agent: string) => x.filter((y) => y.agent === agent && y.state === 'running').length;
      return n('scaled') === 3 && x.filter((y) => y.agent === 'fresh').length === 1 ? x : undefined;
    }, WAIT);
    expect(after.find((x) => x.replica === 'scaled-0')?.pid).toBe(pid('scaled-0'));
    expect(after.find((x) => x.replica === 'scaled-1')?.pid).toBe(pid('scaled-1'));
    expect(after.find((x) => x.replica === 'fresh-0')?.pid).toBe(pid('fresh-0'));
  }, 240_000);

  const settled = () => [worker('keep'), worker('change', { env: { LEVEL: 'debug' } }), worker('held', { env: { NEW: '1' } }), worker('scaled', { replicas: 3 }), worker('fresh', { role: 'g' }), worker('hup')];

  it('reloads on SIGHUP, from the file it runs', async () => {
    writeAgents(settled());
    sup.proc.kill('SIGHUP');
    await running(['hup-0']);
    expect(sup.proc.exitCode).toBe(null);
    const events = (await sup.api<{ events: { kind: string; detail: { added: string[] } }[] }>('GET', '/api/v1/events')).body.events;
    expect(events.find((e) => e.kind === 'reload')?.detail.added).toEqual(['hup']);
  }, 120_000);

  it('per_task: added, max_concurrent lowered (the run over it ends, its task back), changed (runs end and start again), removed (a warning for its pending tasks)', async () => {
    const release = path.join(sup.dir, 'release');
    const pt = (extra: Record<string, unknown> = {}): Agent => ({ name: 'pt', mode: 'per_task', max_concurrent: 2, stop_timeout: 5, command: ['sh', '-c', `while [ ! -e '${release}' ]; do sleep 0.2; done`, `pt-${marker}`], ...extra });
    writeAgents([...settled(), pt()]);
    let r = await reload(['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: [{ agent: 'pt', mode: 'per_task', started: [], held: [], stopped: [] }], removed: [], changed: [] });
    const ids: string[] = [];
    for (const title of ['one', 'two']) ids.push((await sup.api<{ task: Task }>('POST', '/api/v1/tasks', { role: 'pt', title })).body.task.id);
    await waitFor('two runs of pt', async () => processesWith(`pt-${marker}`).length === 2 && (await Promise.all(ids.map(task))).every((t) => t.status === 'in_progress'), WAIT);
    const runsOf = async () => (await sup.api<{ agents: { agent: string; concurrency?: { replicas?: string[] } }[] }>('GET', '/api/v1/status')).body.agents.find((a) => a.agent === 'pt')?.concurrency?.replicas ?? [];
    expect((await runsOf()).sort()).toEqual(['pt-0', 'pt-1']);
    const kept = processesWith(`pt-${marker}`);

    // max_concurrent 2 → 1: the run in slot 1 ends, its task is pending again with no attempt used; slot 0 goes on.
    writeAgents([...settled(), pt({ max_concurrent: 1 })]);
    r = await reload(['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: [{ agent: 'pt', keys: ['max_concurrent'], restarted: false, stopped: ['pt-1'] }] });
    expect(processesWith(`pt-${marker}`)).toHaveLength(1);
    expect(kept).toContain(processesWith(`pt-${marker}`)[0]); // slot 0's run goes on
    const after = await Promise.all(ids.map(task));
    expect(after.map((t) => t.status).sort()).toEqual(['in_progress', 'pending']);
    expect(after.find((t) => t.status === 'pending')).toMatchObject({ attempts: 0 });
    expect(await runsOf()).toEqual(['pt-0']);

    // A changed command: the run ends (its task back, no attempt used) and runs start again under the new config.
    writeAgents([...settled(), pt({ max_concurrent: 1, env: { V: '2' } })]);
    r = await reload(['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: [{ agent: 'pt', keys: ['env.V'], restarted: true, stopped: ['pt-0'] }] });
    await waitFor('a run of pt under the new config', async () => processesWith(`pt-${marker}`).length === 1 && (await Promise.all(ids.map(task))).some((t) => t.status === 'in_progress'), WAIT);
    const run = processesWith(`pt-${marker}`)[0] as number;
    expect(kept).not.toContain(run);
    expect(readFileSync(`/proc/${run}/environ`, 'utf8').split('\0')).toContain('V=2');
    for (const t of await Promise.all(ids.map(task))) expect(t.attempts, t.id).toBeLessThanOrEqual(1); // the ended run's attempt was given back

    // Removed while its tasks are pending or running: they wait, and the reload says so.
    writeAgents(settled());
    r = await reload();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed {3}pt: stopped pt-0/);
    expect(r.stdout).toMatch(/warning: role pt has pending tasks and no agent now/);
    expect(processesWith(`pt-${marker}`)).toEqual([]);
    expect((await Promise.all(ids.map(task))).map((t) => t.status)).toEqual(['pending', 'pending']);
    writeFileSync(release, '');
  }, 240_000);
});
