import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, restartSupervisor, startSupervisor, taskEnded, taskOf, type RunningSupervisor } from '../helpers/harness.js';

/**
 * A task's own run limits (`max_turns`, `max_cost_usd` submitted with it) with real
 * processes: fake `claude -p` runs (test/fixtures/claude/tool-script.mjs, scenario
 * `spend`: turn n costs $0.45 × n at sonnet prices, so a run has spent $0.45, $1.35,
 * $2.70, $4.50, $6.75 after turns 1 to 5). The guard ends a run on the line
 * that crosses its limit; every wait is for the task's end, with a generous bound.
 */

interface Attempt { cause: string | null; llm: { total_cost_usd?: number; estimated?: boolean } | null }
interface TaskJson { id: string; status: string; correlation_id: string; error: string | null; max_turns: number | null; max_cost_usd: number | null; attempt_history: Attempt[] }

const FIX = path.join(ROOT, 'test/fixtures/claude/tool-script.mjs');
const WAIT = 60_000;

describe('per-task run limits: submitted with the task, stored with it, enforced by its run guard', () => {
  let sup: RunningSupervisor;
  const claude = (name: string, scenario: string, extra: Record<string, unknown> = {}) => ({
    name, mode: 'per_task', command: ['node', FIX, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'],
    stdout_adapter: 'claude-stream-json', stop_timeout: 2, env: { CLAUDE_FIXTURE_SCENARIO: scenario }, ...extra,
  });
  const task = (id: string) => taskOf<TaskJson>(sup, id);
  const submit = async (body: Record<string, unknown>) => {
    const r = await sup.api<{ task: TaskJson }>('POST', '/api/v1/tasks', { title: `story for ${String(body.role)}`, prompt: 'do it', ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task;
  };
  const finished = (id: string) => taskEnded<TaskJson>(sup, id, WAIT);
  const cost = (t: TaskJson) => t.attempt_history.reduce((n, a) => n + (a.llm?.total_cost_usd ?? 0), 0);

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        claude('spender', 'spend', { max_cost_usd: 3, max_concurrent: 3 }),
        claude('parked', 'poll', { max_turns: 50 }),
        { name: 'svc', command: ['node', '-e', 'setInterval(() => {}, 1000)'] },
      ],
    });
  }, 60_000);

  afterAll(() => cleanup(sup));

  it('a task with a lower max_cost_usd is stopped at its own limit while a task without one runs to the agent\'s', async () => {
    const own = await submit({ role: 'spender', max_cost_usd: 0.5 });
    const plain = await submit({ role: 'spender' });
    const higher = await submit({ role: 'spender', max_cost_usd: 5 });
    expect([own.max_cost_usd, plain.max_cost_usd, higher.max_cost_usd]).toEqual([0.5, null, 5]);
    const [a, b, c] = await Promise.all([own, plain, higher].map((t) => finished(t.id)));
    expect(a!.status).toBe('failed');
    expect(a!.error).toMatch(/^spent about \$1\.35 \(claude-sonnet-4-5-20250929 prices\), over the task's max_cost_usd \$0\.50/);
    expect(a!.attempt_history.map((x) => x.cause)).toEqual(['budget_exceeded']);
    expect(cost(a!)).toBeCloseTo(1.35, 6); // its partial cost, estimated, counted once
    expect(a!.attempt_history[0]?.llm?.estimated).toBe(true);
    expect(b!.status).toBe('failed');
    expect(b!.error).toMatch(/^spent about \$4\.50 \(claude-sonnet-4-5-20250929 prices\), over max_cost_usd \$3\.00/);
    expect(cost(b!)).toBeCloseTo(4.5, 6);
    // A task's own limit also raises its agent's: it ran past $3.00.
    expect(c!.error).toMatch(/^spent about \$6\.75 .*, over the task's max_cost_usd \$5\.00/);
    // `tasks` shows what each spent against its own limit.
    const list = await sup.cli(['background', 'tasks', '--role', 'spender']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/COST/);
    expect(list.stdout).toMatch(new RegExp(`${own.id} .* \\$1\\.35/\\$0\\.50 `));
    expect(list.stdout).toMatch(new RegExp(`${plain.id} .* \\$4\\.50 `));
  });

  it('refuses bad limits with a 400 that says which and why, and a CLI usage error (exit 2)', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const r = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks', { role: 'spender', title: 't', ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      return r.body;
    };
    expect((await bad({ max_cost_usd: -1 })).reason).toMatch(/max_cost_usd must be >= 0\.0001/);
    expect((await bad({ max_cost_usd: 'lots' })).reason).toMatch(/max_cost_usd must be number/);
    expect((await bad({ max_turns: 2.5 })).reason).toMatch(/max_turns must be integer/);
    expect((await bad({ max_turns: 0 })).reason).toMatch(/max_turns must be >= 1/);
    expect((await bad({ max_turns: 1e9 })).reason).toMatch(/max_turns must be <= 100000/);
    const svc = await bad({ role: 'svc', max_turns: 5 });
    expect(svc).toEqual({ error: 'limits_unenforceable', reason: expect.stringMatching(/^agent svc of role svc is a service agent: the supervisor does not see its turns or cost, so it cannot hold a task to max_turns\./) });
    // Nothing was queued by the refusals.
    expect((await sup.api<{ tasks: unknown[] }>('GET', '/api/v1/tasks?role=svc')).body.tasks).toEqual([]);

    for (const [flag, value, expected] of [
      ['--max-cost-usd', 'abc', /--max-cost-usd: expected US dollars from 0\.0001 to 1000000, got "abc"/],
      ['--max-cost-usd', '0', /--max-cost-usd: expected US dollars from 0\.0001 to 1000000, got "0"/],
      ['--max-turns', '1.5', /--max-turns: expected an integer from 1 to 100000, got "1\.5"/],
    ] as const) {
      const r = await sup.cli(['background', 'submit', 'spender', '--title', 't', flag, value]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(expected);
    }
    const r = await sup.cli(['background', 'submit', 'svc', '--title', 't', '--max-turns', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a service agent/);
  });

  it('the limits survive a SIGKILL of the supervisor and hold the task\'s run after the restart', async () => {
    expect((await sup.api('POST', '/api/v1/agents/parked/stop', {})).status).toBe(200);
    const r = await sup.cli(['background', 'submit', 'parked', '--title', 'parked story', '--max-turns', '5', '--max-cost-usd', '0.25', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const submitted = JSON.parse(r.stdout) as TaskJson;
    expect(submitted).toMatchObject({ status: 'pending', max_turns: 5, max_cost_usd: 0.25 });
    const exited = new Promise((res) => sup.proc.once('exit', res));
    sup.proc.kill('SIGKILL');
    await exited;
    sup = await restartSupervisor(sup);
    expect(await task(submitted.id)).toMatchObject({ status: 'pending', max_turns: 5, max_cost_usd: 0.25 });
    expect((await sup.api('POST', '/api/v1/agents/parked/start', {})).status).toBe(200);
    const t = await finished(submitted.id);
    // The agent would allow 50 turns and the poll completes after 25: the task's own 5 end it.
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^took 6 turns, over the task's max_turns 5/);
  }, 120_000);

  it('cost per story: `metrics --llm --by story` lists every story of the window, most expensive first; /metrics names a run\'s story only as an exemplar', async () => {
    const { body: { tasks } } = await sup.api<{ tasks: TaskJson[] }>('GET', '/api/v1/tasks?role=spender');
    const byCost = tasks.map((t) => ({ id: t.id, cost: cost(t) })).sort((a, b) => b.cost - a.cost);
    const r = await sup.cli(['background', 'metrics', '--llm', '--by', 'story', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const stories = JSON.parse(r.stdout) as { task_id: string; role: string; runs: number; cost_usd: number }[];
    expect(stories.slice(0, 3).map((x) => [x.task_id, x.role, x.runs])).toEqual(byCost.map((x) => [x.id, 'spender', 1]));
    stories.slice(0, 3).forEach((x, i) => expect(x.cost_usd).toBeCloseTo(byCost[i]!.cost, 6));
    expect(stories.map((x) => x.role).sort()).toEqual(['parked', 'spender', 'spender', 'spender']);
    const two = await sup.cli(['background', 'metrics', '--llm', '--by', 'story', '--limit', '2']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/^By story \(2 most expensive, \$11\.25 of \$12\.\d\d\)$/m);
    expect(two.stdout).toContain(byCost[1]!.id);
    expect(two.stdout).not.toContain(byCost[2]!.id);
    expect(two.stdout).not.toContain('By role');
    for (const [args, expected] of [
      [['--llm', '--by', 'agent'], /--by: expected one of role, day, story, got "agent"/],
      [['--by', 'story'], /--by goes with --llm/],
      [['--llm', '--by', 'story', '--limit', '0'], /--limit: expected a number of stories from 1 to 1000, got "0"/],
      [['--llm', '--limit', '5'], /--limit goes with --by story/],
    ] as const) {
      const bad = await sup.cli(['background', 'metrics', ...args]);
      expect(bad.code, bad.stdout).toBe(2);
      expect(bad.stderr).toMatch(expected);
    }
    for (const q of ['stories=0', 'stories=1001', 'stories=abc']) {
      const res = await sup.api<{ error: string; reason: string }>('GET', `/api/v1/llm?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.reason).toMatch(/stories/);
    }
    // No task id in a label: the run-cost histogram carries the story's trace id as its exemplar.
    const om = parseExposition(await (await fetch(`${sup.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text(), 'openmetrics');
    expect(om.labelNames('agentic_task_run_cost_usd_bucket')).toEqual(['agent', 'le', 'role']);
    // (This supervisor, started after the SIGKILL above, has run only the parked story.)
    const parked = (await sup.api<{ tasks: TaskJson[] }>('GET', '/api/v1/tasks?role=parked')).body.tasks[0]!;
    const traces = new Set(om.series('agentic_task_run_cost_usd_bucket').map((x) => x.exemplar?.labels.trace_id).filter(Boolean));
    expect([...traces]).toEqual([parked.correlation_id]);
  });
});
