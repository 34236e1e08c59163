import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, cleanup, processesWith, restartSupervisor, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * The per_task run lifecycle with real processes: fake `claude -p` fixtures
 * (test/fixtures/claude/) that hang, go silent, linger after their result, fail,
 * and are resumed. Timeouts are small (seconds) and every wait is for an event,
 * with bounds far above them.
 */

interface TaskJson { id: string; status: string; attempts: number; error: string | null; result: unknown; llm: { total_cost_usd?: number; num_turns?: number } | null }
interface RunLog { pid: number; argv: string[]; task: string; attempt: string; agent_id: string; session: string }

const FIX = (f: string) => path.join(ROOT, 'test/fixtures/claude', f);
const FAKE = path.join(ROOT, 'examples/agents/fake-claude.mjs');
const MARKER = `cf${randomUUID().slice(0, 8)}`;
const WAIT = 40_000;
const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
};

describe('per_task runs: timeouts that act, operator control, resume', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'agentic-runs-'));
  const LOG = path.join(work, 'runs.ndjson');
  let sup: RunningSupervisor;
  const claude = (name: string, script: string, extra: Record<string, unknown> = {}) => ({
    name, mode: 'per_task', command: ['node', FIX(script), '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', stop_timeout: 1,
    ...extra, env: { CLAUDE_FIXTURE_LOG: LOG, CLAUDE_FIXTURE_MARKER: `${MARKER}-${name}`, ...(extra.env as object | undefined) },
  });
  const task = async (id: string) => (await sup.api<{ task: TaskJson }>('GET', `/api/v1/tasks/${id}`)).body.task;
  const submit = async (role: string, prompt = `story for ${role}`) => {
    const r = await sup.api<{ task: TaskJson; error?: string; reason?: string }>('POST', '/api/v1/tasks', { role, title: `story for ${role}`, prompt });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task.id;
  };
  const until = (id: string, status: string) => waitFor(`task ${id} ${status}`, async () => { const t = await task(id); return t.status === status ? t : undefined; }, WAIT);
  const runsOf = (id: string): RunLog[] => (existsSync(LOG) ? readFileSync(LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunLog).filter((r) => r.task === id) : []);

  beforeAll(async () => {
    sup = await startSupervisor({
      queue: { max_attempts: 2 },
      monitoring: { health_checks: { task_progress: { stale_task_threshold: 2 } } },
      agents: [
        claude('hanger', 'hang-after-init.mjs', { task_timeout: 1.5, env: { IGNORE_SIGTERM: '1' } }),
        claude('silent', 'hang-after-init.mjs'),
        claude('linger', 'linger-after-result.mjs', { result_grace: 1 }),
        claude('exiter', 'exit-1-without-result.mjs'),
        claude('resumer', 'hang-unless-resumed.mjs', { task_timeout: 1.5 }),
        claude('worker', 'hang-after-init.mjs', { max_concurrent: 2, env: { CLAUDE_FIXTURE_TICK_MS: '300' } }),
        { name: 'argv_claude', mode: 'per_task', command: ['node', FAKE, '-p', '{prompt}', '--output-format', 'stream-json'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '5' } },
        { name: 'file_claude', mode: 'per_task', command: ['sh', '-c', `exec node '${FAKE}' -p --output-format stream-json < "$0"`, '{prompt_file}'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '5' } },
        { name: 'stdin_claude', mode: 'per_task', command: ['node', FAKE, '-p', '--output-format', 'stream-json'], stdin: 'prompt', stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '5' } },
        { name: 'ghost', mode: 'per_task', command: [path.join(work, 'claude-not-installed'), '-p', '{prompt}'] },
      ],
    });
  });

  afterAll(() => {
    cleanup(sup);
    rmSync(work, { recursive: true, force: true });
  });

  it('kills a run that hangs after init at task_timeout (SIGKILL when it ignores SIGTERM, its whole group), retries it, then dead-letters it', async () => {
    const id = await submit('hanger');
    const t = await until(id, 'failed');
    expect(t.error).toBe('timed out after 1.5 s (task_timeout) (gave up after 2 attempts)');
    expect(t.attempts).toBe(2);
    const runs = runsOf(id);
    expect(runs.map((r) => r.attempt)).toEqual(['1', '2']);
    expect(runs.filter((r) => alive(r.pid))).toEqual([]);
    expect(processesWith(`${MARKER}-hanger`)).toEqual([]);
    expect(sup.output()).toMatch(/hanger-0 \(task [^)]+\) did not exit within stop_timeout 1 s: sent SIGKILL to its process group/);
  });

  it('kills a run that prints nothing for stale_task_threshold (cause stalled)', async () => {
    const id = await submit('silent');
    const t = await until(id, 'failed');
    expect(t.error).toMatch(/^no output for 2(\.\d)? s \(stale_task_threshold 2 s\) \(gave up after 2 attempts\)$/);
    expect(processesWith(`${MARKER}-silent`)).toEqual([]);
  });

  it('kills a run that lingers result_grace after its result, completes the task with that result, and counts its cost once', async () => {
    const id = await submit('linger');
    const t = await until(id, 'completed');
    expect(t).toMatchObject({ attempts: 1, result: 'story finished, then lingered', llm: { total_cost_usd: 0.125 } });
    expect(runsOf(id).filter((r) => alive(r.pid))).toEqual([]);
    expect(processesWith(`${MARKER}-linger`)).toEqual([]);
    const metrics = await (await fetch(`${sup.url}/metrics`)).text();
    expect(metrics).toMatch(/^agentic_llm_cost_usd_total\{agent="linger",role="linger"\} 0\.125$/m);
  });

  it('fails a run that exits 1 without a result with the reason, retries it, then dead-letters it', async () => {
    const id = await submit('exiter');
    const t = await until(id, 'failed');
    expect(t.error).toBe('exited with code 1 (gave up after 2 attempts)');
    expect(runsOf(id).map((r) => r.attempt)).toEqual(['1', '2']);
  });

  it('starts the retry of a timed-out run with --resume <the session id the first run reported>, and the story completes in it', async () => {
    const id = await submit('resumer');
    const t = await until(id, 'completed');
    const [first, second] = runsOf(id);
    expect(first?.argv).not.toContain('--resume');
    expect(second?.argv.slice(-2)).toEqual(['--resume', first?.session]);
    expect([first?.attempt, second?.attempt, second?.agent_id]).toEqual(['1', '2', 'resumer-0']);
    expect(t.result).toBe(`finished in resumed session ${first?.session}`);
    expect(sup.output()).toContain(`task ${id} resumes session ${first?.session} (attempt 2)`);
  });

  it('restart of a per_task role ends its runs, their tasks pending again with attempts unchanged; a slot can be restarted alone; cancel kills the run', async () => {
    const ids = [await submit('worker', 'a'), await submit('worker', 'b')];
    await waitFor('both worker runs', () => ids.every((id) => runsOf(id).length === 1), WAIT);
    const firstPids = ids.map((id) => runsOf(id)[0]!.pid);
    const r = await sup.cli(['background', 'restart', 'worker']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Ended 2 runs of worker \(worker-\d: task_\w+, worker-\d: task_\w+\); their tasks are pending again, with no attempt used/);
    expect(firstPids.filter(alive)).toEqual([]);
    await waitFor('both tasks running again', () => ids.every((id) => runsOf(id).length === 2), WAIT);
    for (const id of ids) {
      const [before, after] = runsOf(id);
      expect(after?.attempt).toBe('2'); // AGENTIC_TASK_ATTEMPT is the delivery number; `attempts` below (attempts used) stays 1
      expect(after?.argv.slice(-2)).toEqual(['--resume', before?.session]);
      expect((await task(id)).attempts).toBe(1);
    }
    const one = await sup.cli(['background', 'restart', 'worker-1']);
    expect(one.stdout).toMatch(/^Ended 1 run of worker-1 \(worker-1: task_\w+\)/);
    await waitFor('the slot-1 task running again', () => ids.some((id) => runsOf(id).length === 3), WAIT);

    const victim = ids[0] as string;
    await waitFor('the victim running', async () => (await task(victim)).status === 'in_progress', WAIT);
    const pid = runsOf(victim).at(-1)!.pid;
    expect((await sup.api('POST', `/api/v1/tasks/${victim}/cancel`)).status).toBe(200);
    await waitFor('the cancelled run gone', () => !alive(pid), WAIT);
    expect((await task(victim)).status).toBe('cancelled');
    await sup.api('POST', `/api/v1/tasks/${ids[1]}/cancel`);
    await waitFor('no worker process left', () => processesWith(`${MARKER}-worker`).length === 0, WAIT);
  });

  it('refuses at submit a prompt that cannot be passed in argv (400, why and the limit); runs it through {prompt_file} and on stdin', async () => {
    const prompt = `${'story line\n'.repeat(300 * 1024 / 11)}THE END`;
    const refused = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', { role: 'argv_claude', title: 'big', prompt });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('argv_too_long');
    expect(refused.body.reason).toMatch(/argument of [\d,]+ bytes \(argv\[3\]\); Linux allows at most 131,071 bytes per argument \(MAX_ARG_STRLEN 131,072 with its NUL\)\. Pass a long prompt in a file with \{prompt_file\}, or on stdin with `stdin: prompt`/);
    for (const role of ['file_claude', 'stdin_claude']) {
      const id = await submit(role, prompt);
      const t = await until(id, 'completed');
      // The fake's turns are 2 + (prompt length % 4): the whole prompt arrived.
      expect(t).toMatchObject({ result: expect.stringMatching(/^Story complete after/), llm: { num_turns: 2 + (prompt.length % 4) } });
    }
    expect(readdirSync(path.join(sup.stateDir, 'prompts'))).toEqual([]); // removed after the run
  });

  it('fails a task whose command cannot be spawned (ENOENT) with the reason, and stays up', async () => {
    const id = await submit('ghost');
    const t = await until(id, 'failed');
    expect(t.error).toMatch(/^could not start: ENOENT/);
    expect((await sup.api('GET', '/healthz')).status).toBe(200);
  });
});

describe('per_task runs and a graceful stop', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'agentic-stop-'));
  const LOG = path.join(work, 'runs.ndjson');
  let sup: RunningSupervisor | undefined;
  afterAll(() => {
    cleanup(sup);
    rmSync(work, { recursive: true, force: true });
  });

  it('releases a running task on `stop` without using an attempt; the next start resumes its session', async () => {
    sup = await startSupervisor({
      queue: { max_attempts: 1 }, // one used attempt more and the task would be dead-lettered
      agents: [{ name: 'worker', mode: 'per_task', command: ['node', FIX('hang-after-init.mjs'), '-p', '{prompt}'], stdout_adapter: 'claude-stream-json', env: { CLAUDE_FIXTURE_LOG: LOG, CLAUDE_FIXTURE_TICK_MS: '200', CLAUDE_FIXTURE_MARKER: `${MARKER}-stop` } }],
    });
    const r = await sup.api<{ task: TaskJson }>('POST', '/api/v1/tasks', { role: 'worker', title: 'long story' });
    const id = r.body.task.id;
    const runs = () => readFileSync(LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunLog);
    await waitFor('the run', () => existsSync(LOG) && runs().length === 1, WAIT);
    expect(await sup.stop()).toBe(0);
    expect(processesWith(`${MARKER}-stop`)).toEqual([]);
    expect(sup.output()).toMatch(new RegExp(`task ${id} is pending again \\(no attempt used\\): the supervisor is stopping \\(received SIGTERM\\)`));
    sup = await restartSupervisor(sup);
    await waitFor('the run again', () => runs().length === 2, WAIT);
    const [first, second] = runs();
    expect(second?.attempt).toBe('2'); // the second delivery; no attempt used (below)
    expect(second?.argv.slice(-2)).toEqual(['--resume', first?.session]);
    const t = (await sup.api<{ task: TaskJson }>('GET', `/api/v1/tasks/${id}`)).body.task;
    expect({ status: t.status, attempts: t.attempts }).toEqual({ status: 'in_progress', attempts: 1 });
  });
});

describe('per_task spawn failures at start', () => {
  let sup: RunningSupervisor | undefined;
  afterAll(() => cleanup(sup));

  it('fails an in-progress task whose argv became too long (E2BIG) after a restart, instead of crashing on every start', async () => {
    sup = await startSupervisor({ agents: [{ name: 'big', mode: 'per_task', command: ['node', FIX('hang-after-init.mjs'), '-p'], stdin: 'prompt', env: { CLAUDE_FIXTURE_TICK_MS: '200', CLAUDE_FIXTURE_MARKER: `${MARKER}-big` } }] });
    const r = await sup.api<{ task: TaskJson }>('POST', '/api/v1/tasks', { role: 'big', title: 'big', prompt: 'x'.repeat(200 * 1024) });
    expect(r.status).toBe(201);
    const id = r.body.task.id;
    await waitFor('the run', () => processesWith(`${MARKER}-big`).length === 1, WAIT);
    sup.proc.kill('SIGKILL');
    await new Promise((res) => sup!.proc.once('exit', res));
    // The same task now meets a command that passes the prompt in argv.
    const file = path.join(sup.dir, 'config.yaml');
    const cfg = parse(readFileSync(file, 'utf8')) as { background: { agents: Record<string, unknown>[] } };
    cfg.background.agents[0] = { ...cfg.background.agents[0], command: ['node', FIX('hang-after-init.mjs'), '-p', '{prompt}'], stdin: 'none' };
    writeFileSync(file, stringify(cfg));
    sup = await restartSupervisor(sup);
    const t = await waitFor('the task failed', async () => { const x = (await sup!.api<{ task: TaskJson }>('GET', `/api/v1/tasks/${id}`)).body.task; return x.status === 'failed' ? x : undefined; }, WAIT);
    expect(t.error).toMatch(/^could not start: E2BIG/);
    expect((await sup.api('GET', '/healthz')).status).toBe(200);
    expect(processesWith(`${MARKER}-big`)).toEqual([]);
  });
});
