import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, processesWith, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

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
  const task = async (id: string) => (await sup.api<{ task: TaskJson }>('GET', `/api/v1/tasks/${id}`)).body.task;
  const submit = async (role: string) => {
    const r = await sup.api<{ task: TaskJson }>('POST', '/api/v1/tasks', { role, title: `story for ${role}`, prompt: 'do it' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task.id;
  };
  const finished = (id: string) => waitFor(`task ${id} to finish`, async () => {
    const t = await task(id);
    return t.status === 'completed' || t.status === 'failed' ? t : undefined;
  }, WAIT);

  beforeAll(async () => {
    sup = await startSupervisor({
      queue: { max_attempts: 3 },
      monitoring: { health_checks: { llm_progress: { max_repeats: 4, window: 120 } } },
      agents: [
        claude('looper', 'loop1'),
        claude('cycler', 'cycle2'),
        claude('poller', 'poll'),
        claude('spender', 'spend', { max_cost_usd: 1 }),
        claude('talker', 'poll', { max_turns: 3 }),
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
});
