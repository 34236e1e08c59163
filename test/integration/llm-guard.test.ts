import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, processesWith, restartSupervisor, startSupervisor, taskEnded, taskOf, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * LLM-aware supervision with real processes: fake `claude -p` runs
 * (test/fixtures/claude/tool-script.mjs) that loop on one tool call, cycle between
 * two, poll legitimately, or burn tokens. Loops and budgets end the run at once
 * (no timer): every wait below is for the task's end, with a generous bound.
 */

interface Attempt { cause: string | null; counted: boolean | null; llm: { total_cost_usd?: number; num_turns?: number; estimated?: boolean } | null }
interface TaskJson { id: string; status: string; attempts: number; error: string | null; llm: { total_cost_usd?: number; num_turns?: number; estimated?: boolean } | null; attempt_history: Attempt[] }

const FIX = path.join(ROOT, 'test/fixtures/claude/tool-script.mjs');
const WAIT = 60_000;

describe('LLM-aware supervision: tool loops and budgets end the run', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'agentic-llm-'));
  let sup: RunningSupervisor;
  const claude = (name: string, scenario: string, extra: Record<string, unknown> = {}) => ({
    name, mode: 'per_task', command: ['node', FIX, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose', `marker-${name}-${process.pid}`],
    stdout_adapter: 'claude-stream-json', stop_timeout: 2, env: { CLAUDE_FIXTURE_SCENARIO: scenario }, ...extra,
  });
  const task = (id: string) => taskOf<TaskJson>(sup, id);
  const submit = async (role: string) => {
    const r = await sup.api<{ task: TaskJson }>('POST', '/api/v1/tasks', { role, title: `story for ${role}`, prompt: 'do it' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task.id;
  };
  const finished = (id: string) => taskEnded<TaskJson>(sup, id, WAIT);

  beforeAll(async () => {
    sup = await startSupervisor({
      queue: { max_attempts: 3 },
      llm: { rate_limit_backoff: { base: 2, max: 60 }, budgets: { roles: [{ role: 'budgeted', per_hour_usd: 0.3 }] } },
      monitoring: { check_interval: 1, health_checks: { llm_progress: { max_repeats: 4, window: 120 } } },
      agents: [
        claude('looper', 'loop1'),
        claude('cycler', 'cycle2'),
        claude('poller', 'poll'),
        claude('spender', 'spend', { max_cost_usd: 1 }),
        claude('talker', 'poll', { max_turns: 3 }),
        claude('limited', 'ratelimit', { max_concurrent: 3 }),
        claude('budgeted', 'poll', { max_concurrent: 1 }),
      ],
    });
  }, 60_000);

  afterAll(() => {
    cleanup(sup);
    rmSync(work, { recursive: true, force: true });
  });

  it('kills a one-call loop at the fourth identical call and fails the task at once (not retried), naming the call', async () => {
    const t = await finished(await submit('looper'));
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^called Read note\.txt 4 times in [\d.]+ s with the same input and the same answer \(llm_progress\.max_repeats 4\)/);
    expect(t.attempts).toBe(1);
    expect(t.attempt_history.map((a) => [a.cause, a.counted])).toEqual([['tool_loop', true]]);
    // Tokens it used before it was stopped are counted, the cost estimated at sonnet prices.
    expect(t.attempt_history[0]?.llm).toMatchObject({ estimated: true, num_turns: 4 });
    expect(t.attempt_history[0]?.llm?.total_cost_usd).toBeGreaterThan(0);
    expect(processesWith(`marker-looper-${process.pid}`)).toEqual([]);
  });

  it('kills a two-call cycle the same way, naming the cycle', async () => {
    const t = await finished(await submit('cycler'));
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^repeated the cycle Read a\.txt → Grep TODO 4 times in /);
  });

  it('lets legitimate repetition finish: a build polled while its output changes, then many different files read', async () => {
    const t = await finished(await submit('poller'));
    expect(t.status, t.error ?? '').toBe('completed');
    expect(t.attempts).toBe(1);
  });

  it('stops a run over max_cost_usd mid-run: the task fails with the reason, its partial cost counted once on /metrics', async () => {
    const t = await finished(await submit('spender'));
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^spent about \$1\.\d\d \(claude-sonnet-4-5-20250929 prices\), over max_cost_usd \$1\.00/);
    expect(t.attempts).toBe(1); // a spent budget is not retried
    const cost = t.attempt_history[0]?.llm?.total_cost_usd ?? 0;
    expect(cost).toBeGreaterThan(1);
    expect(cost).toBeLessThan(3);
    const m = parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    expect(m.value('agentic_task_runs_total', { agent: 'spender', role: 'spender', outcome: 'failed', cause: 'budget_exceeded' })).toBe(1);
    expect(m.value('agentic_llm_cost_usd_total', { agent: 'spender', role: 'spender' })).toBeCloseTo(cost, 6);
    expect(m.value('agentic_task_runs_total', { agent: 'looper', role: 'looper', outcome: 'failed', cause: 'tool_loop' })).toBe(1);
  });

  it('stops a run past max_turns', async () => {
    const t = await finished(await submit('talker'));
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^took 4 turns, over max_turns 3/);
  });

  it('a rate-limit storm backs the role off once: no run starts during the backoff, the attempts are given back, then the tasks complete', async () => {
    const ids = [await submit('limited'), await submit('limited'), await submit('limited')];
    const done = await Promise.all(ids.map(finished));
    expect(done.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    const hist = done.map((t) => t.attempt_history as (Attempt & { started_at: number; ended_at: number | null })[]);
    // Every first attempt was rate-limited and given back (no attempt used up), every second one completed.
    for (const h of hist) {
      expect(h.map((a) => [a.cause, a.counted])).toEqual([['rate_limited', false], ['completed', true]]);
    }
    for (const t of done) expect(t.attempts).toBe(1);
    // One backoff for the storm: logged once, and no second run started before it ended (base 2 s).
    const firstLimit = Math.min(...hist.map((h) => h[0]!.ended_at ?? Infinity));
    const secondStarts = hist.map((h) => h[1]!.started_at);
    expect(Math.min(...secondStarts) - firstLimit).toBeGreaterThanOrEqual(1500);
    const lines = sup.output().split('\n').filter((l) => l.includes('"msg":"role limited: the API is rate-limiting its runs'));
    expect(lines, lines.join('\n')).toHaveLength(1);
    expect(lines[0]).toMatch(/role limited: the API is rate-limiting its runs \((assistant error: rate_limit|error result: .*429.*)\); no new run of limited for 2 s \(backoff 1 in a row/);
    const m = parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    expect(m.value('agentic_task_runs_total', { agent: 'limited', role: 'limited', outcome: 'released', cause: 'rate_limited' })).toBe(3);
    expect(m.value('agentic_role_rate_limit_backoffs_total', { role: 'limited' })).toBe(1);
    expect(m.value('agentic_role_rate_limited', { role: 'limited' })).toBe(0); // the backoff is over
    expect(m.value('agentic_role_rate_limit_backoffs_total', { role: 'spender' })).toBe(0);
  }, 90_000);

  it('a role over its hourly budget starts no new run: the task waits, the system verdict says why, one escalation; a restart does not reset it; the task starts when the window moves', async () => {
    // Each run costs $0.125 (its result's total_cost_usd): after three ($0.375) the role is over its $0.30.
    const ids = [await submit('budgeted'), await submit('budgeted'), await submit('budgeted'), await submit('budgeted')];
    const done = await Promise.all(ids.slice(0, 3).map(finished));
    expect(done.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    const system = await waitFor('the llm_budget finding', async () => {
      const h = await sup.api<{ system: { verdict: string; findings: { kind: string; subject?: string; message: string }[] } }>('GET', '/api/v1/health');
      return h.body.system.findings.find((f) => f.kind === 'llm_budget') ? h.body.system : undefined;
    }, WAIT);
    expect(system.verdict).not.toBe('healthy');
    expect(system.findings.find((f) => f.kind === 'llm_budget')?.message).toMatch(/^system: role budgeted is held: role budgeted spent \$0\.38 in the last hour, at or over llm\.budgets roles\[\] per_hour_usd \$0\.30; its tasks wait until about \d\d:\d\d:\d\d UTC$/);
    expect((await task(ids[3]!)).status).toBe('pending');
    const m = parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    expect(m.value('agentic_role_budget_held', { role: 'budgeted' })).toBe(1);
    expect(m.value('agentic_role_budget_held', { role: 'limited' })).toBe(0);
    expect(m.value('agentic_llm_budget_usd', { role: 'budgeted', window: '1h' })).toBe(0.3);
    const alerts = sup.output().split('\n').filter((l) => l.includes('"alert":"budget_exceeded"'));
    expect(alerts, alerts.join('\n')).toHaveLength(1);
    // A restart reads the hour's spending back from the run ledger: still held.
    await sup.stop();
    sup = await restartSupervisor(sup);
    await waitFor('the llm_budget finding after the restart', async () => {
      const h = await sup.api<{ system: { findings: { kind: string }[] } }>('GET', '/api/v1/health');
      return h.body.system.findings.some((f) => f.kind === 'llm_budget') || undefined;
    }, WAIT);
    expect((await task(ids[3]!)).status).toBe('pending');
    // The window moves: with the supervisor stopped, the ledger's runs are moved back
    // so that the oldest leaves the hour 15 s after the next start. Without it the role
    // is under its limit ($0.25 of $0.30), so the waiting task must start then, not before.
    await sup.stop();
    const db = new Database(path.join(sup.stateDir, 'state.db'));
    const { oldest } = db.prepare("SELECT MIN(finished_at) AS oldest FROM task_runs WHERE role = 'budgeted'").get() as { oldest: number };
    const freesAt = Date.now() + 15_000;
    db.prepare("UPDATE task_runs SET finished_at = finished_at - ?, started_at = started_at - ? WHERE role = 'budgeted'").run(...Array(2).fill(oldest - (freesAt - 3_600_000)));
    db.close();
    sup = await restartSupervisor(sup);
    const resumed = await finished(ids[3]!);
    expect(resumed.status).toBe('completed');
    expect((resumed as TaskJson & { started_at: number }).started_at).toBeGreaterThanOrEqual(freesAt - 1000); // the gate's own clock reads the same wall time
    await waitFor('the llm_budget finding to clear', async () => {
      const h = await sup.api<{ system: { findings: { kind: string }[] } }>('GET', '/api/v1/health');
      return !h.body.system.findings.some((f) => f.kind === 'llm_budget') || undefined;
    }, WAIT);
    expect(parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus').value('agentic_role_budget_held', { role: 'budgeted' })).toBe(0);
  }, 180_000);

  it('`background metrics --llm` says where the money went: by role and day, the most expensive stories, the retries\' share', async () => {
    const r = await sup.cli(['background', 'metrics', '--llm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { total: { runs: number; cost_usd: number }; by_role: { role: string; runs: number; cost_usd: number }[]; by_day: { day: string }[]; top_stories: { task_id: string; role: string; title: string; cost_usd: number }[]; retries: { runs: number; cost_usd: number; share: number }; not_completed: { cost_usd: number } };
    const role = (n: string) => rep.by_role.find((x) => x.role === n);
    expect(role('spender')?.cost_usd).toBeGreaterThan(1);
    expect(role('budgeted')).toMatchObject({ runs: 4, cost_usd: 0.5 }); // three before the hold, one when the window moved
    expect(role('limited')?.runs).toBe(6); // three rate-limited runs and three that completed
    expect(rep.total.runs).toBe(rep.by_role.reduce((n, x) => n + x.runs, 0));
    // The budget test moved the budgeted role's runs back by about an hour: near midnight they fall on the day before.
    const days = new Set([new Date().toISOString().slice(0, 10), new Date(Date.now() - 3_700_000).toISOString().slice(0, 10)]);
    expect(rep.by_day.length).toBeGreaterThanOrEqual(1);
    for (const d of rep.by_day) expect(days, d.day).toContain(d.day);
    expect(rep.top_stories[0]).toMatchObject({ role: 'spender', title: 'story for spender' });
    // The rate-limited tasks' second attempts cost $0.125 each (their results).
    expect(rep.retries.runs).toBe(3);
    expect(rep.retries.cost_usd).toBeCloseTo(0.375, 6);
    expect(rep.retries.share).toBeCloseTo(0.375 / rep.total.cost_usd, 6);
    expect(rep.not_completed.cost_usd).toBeGreaterThan(1); // the spender's killed run
    const human = await sup.cli(['background', 'metrics', '--llm']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^LLM spending \(last 7d\): \$\d+\.\d\d over \d+ runs$/m);
    expect(human.stdout).toContain('Most expensive stories');
    expect(human.stdout).toContain(rep.top_stories[0]!.task_id);
    expect(human.stdout).toMatch(/Retries \(second and later attempts\): \$0\.38 over 3 runs, [\d.]+% of the cost/);
  });
});
