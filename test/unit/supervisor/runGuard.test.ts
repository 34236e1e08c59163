import { describe, expect, it } from 'vitest';
import type { AdapterEvent } from '../../../src/supervisor/adapters/StdoutAdapter.js';
import { createClaudeStreamJsonAdapter } from '../../../src/supervisor/adapters/index.js';
import { DEFAULT_PRICING, costOf } from '../../../src/supervisor/llmPricing.js';
import { RunGuard, type GuardLimits } from '../../../src/supervisor/RunGuard.js';
import { createRunGuard } from '../../../src/supervisor/perTaskWiring.js';
import { runOutcome } from '../../../src/supervisor/runOutcome.js';
import { parseConfig } from '../../../src/config/loadConfig.js';

const LOOP = { maxRepeats: 5, windowMs: 600_000, retry: false };
const limits = (over: Partial<GuardLimits> = {}): GuardLimits => ({ maxTurns: undefined, maxCostUsd: undefined, loop: LOOP, pricing: DEFAULT_PRICING, ...over });

/** Claude stream-json lines for one tool call and its answer (a turn each). */
let n = 0;
function toolTurn(name: string, input: Record<string, unknown>, answer: string, usage = { input_tokens: 10, output_tokens: 10 }): string[] {
  n += 1;
  const id = `toolu_${n}`;
  return [
    JSON.stringify({ type: 'assistant', message: { id: `msg_${n}`, model: 'claude-sonnet-4-5-20250929', content: [{ type: 'tool_use', id, name, input }], usage } }),
    JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: id, content: answer }] } }),
  ];
}

/** Feeds lines through a real adapter into the guard, one second apart; returns the first stop reason and when. */
function run(guard: RunGuard, lines: string[]): { reason: ReturnType<RunGuard['onEvent']>; atLine: number } {
  const adapter = createClaudeStreamJsonAdapter();
  for (let i = 0; i < lines.length; i += 1) {
    for (const ev of adapter.onLine(lines[i] as string)) {
      const reason = guard.onEvent(ev, i * 1000);
      if (reason) return { reason, atLine: i };
    }
  }
  return { reason: undefined, atLine: -1 };
}

describe('RunGuard: tool loops', () => {
  it('stops a one-call loop at the max_repeats-th identical call and answer, and names it', () => {
    const lines = Array.from({ length: 10 }, () => toolTurn('Read', { file_path: 'note.txt' }, 'same text')).flat();
    const { reason, atLine } = run(new RunGuard(limits()), lines);
    expect(reason?.cause).toBe('tool_loop');
    expect(reason?.retryable).toBe(false);
    expect(reason?.detail).toMatch(/^called Read note\.txt 5 times in 8 s with the same input and the same answer \(llm_progress\.max_repeats 5\)$/);
    expect(atLine).toBe(9); // the fifth answer
  });

  it('stops a two-call cycle and names both calls', () => {
    const lines = Array.from({ length: 8 }, () => [...toolTurn('Read', { file_path: 'a.txt' }, 'A'), ...toolTurn('Grep', { pattern: 'TODO' }, 'none')]).flat();
    const { reason } = run(new RunGuard(limits()), lines);
    expect(reason?.cause).toBe('tool_loop');
    expect(reason?.detail).toMatch(/^repeated the cycle Read a\.txt → Grep TODO 5 times/);
  });

  it('stops a three-call cycle', () => {
    const lines = Array.from({ length: 6 }, () => [
      ...toolTurn('Bash', { command: 'npm test' }, 'FAIL 1'), ...toolTurn('Edit', { file_path: 'x.ts', old_string: 'a', new_string: 'b' }, 'ok'), ...toolTurn('Edit', { file_path: 'x.ts', old_string: 'b', new_string: 'a' }, 'ok'),
    ]).flat();
    const { reason } = run(new RunGuard(limits()), lines);
    expect(reason?.detail).toMatch(/^repeated the cycle Bash npm test → Edit x\.ts 5 times/);
  });

  it('does not flag legitimate repetition: a build polled while its output changes, many different files read', () => {
    const polling = Array.from({ length: 30 }, (_, i) => toolTurn('Bash', { command: 'make status' }, `building ${i * 3} %`)).flat();
    const reading = Array.from({ length: 40 }, (_, i) => toolTurn('Read', { file_path: `src/f${i}.ts` }, 'export {}')).flat();
    expect(run(new RunGuard(limits()), [...polling, ...reading]).reason).toBeUndefined();
  });

  it('input key order does not make two calls different; repeats outside the window are forgotten', () => {
    const g = new RunGuard(limits({ loop: { maxRepeats: 3, windowMs: 10_000, retry: true } }));
    const ev = (i: number, input: string): AdapterEvent[] => [{ kind: 'tool_call', id: `t${i}`, name: 'Read', summary: 'Read a', input }, { kind: 'tool_result', id: `t${i}`, digest: 'd', isError: false }];
    // Two repeats, then a gap longer than the window: the third is the first of a new count.
    for (const [i, at] of [[1, 0], [2, 1000]] as const) for (const e of ev(i, '{"a":1,"b":2}')) expect(g.onEvent(e, at)).toBeUndefined();
    for (const e of ev(3, '{"a":1,"b":2}')) expect(g.onEvent(e, 20_000)).toBeUndefined();
    for (const e of ev(4, '{"a":1,"b":2}')) expect(g.onEvent(e, 21_000)).toBeUndefined();
    const out = ev(5, '{"a":1,"b":2}').map((e) => g.onEvent(e, 22_000));
    expect(out[1]).toMatchObject({ cause: 'tool_loop', retryable: true });
    // The adapter writes inputs with sorted keys, so {b, a} and {a, b} are one call.
    const adapter = createClaudeStreamJsonAdapter();
    const calls = [...toolTurn('Edit', { b: 2, a: 1 }, 'x'), ...toolTurn('Edit', { a: 1, b: 2 }, 'x')].flatMap((l) => adapter.onLine(l)).filter((e) => e.kind === 'tool_call');
    expect(new Set(calls.map((c) => (c.kind === 'tool_call' ? c.input : '')))).toEqual(new Set(['{"a":1,"b":2}']));
  });

  it('with llm_progress off (loop undefined) never flags a loop', () => {
    const lines = Array.from({ length: 20 }, () => toolTurn('Read', { file_path: 'note.txt' }, 'same')).flat();
    expect(run(new RunGuard(limits({ loop: undefined })), lines).reason).toBeUndefined();
  });
});

describe('RunGuard: budgets', () => {
  it('stops a run past max_turns, not at it', () => {
    const lines = Array.from({ length: 5 }, (_, i) => toolTurn('Read', { file_path: `f${i}` }, 'x')).flat();
    const { reason, atLine } = run(new RunGuard(limits({ maxTurns: 3 })), lines);
    expect(reason).toEqual({ cause: 'budget_exceeded', detail: 'took 4 turns, over max_turns 3', retryable: false });
    expect(atLine).toBe(6); // the fourth assistant line
  });

  it('stops a run whose estimated cost passes max_cost_usd, from the stream usage at the model price', () => {
    // Each turn: 100k input + 10k output tokens of sonnet = $0.30 + $0.15 = $0.45.
    const usage = { input_tokens: 100_000, output_tokens: 10_000 };
    const lines = Array.from({ length: 5 }, (_, i) => toolTurn('Read', { file_path: `f${i}` }, 'x', usage)).flat();
    const g = new RunGuard(limits({ maxCostUsd: 1 }));
    const { reason } = run(g, lines);
    expect(reason?.cause).toBe('budget_exceeded');
    expect(reason?.detail).toBe('spent about $1.35 (claude-sonnet-4-5-20250929 prices), over max_cost_usd $1.00');
    expect(g.spent.costUsd).toBeCloseTo(1.35, 6);
    expect(g.spent.turns).toBe(3);
  });

  it('an unpriced model cannot be judged on cost (no estimate), but turns still are', () => {
    const g = new RunGuard(limits({ maxCostUsd: 0.01, maxTurns: 100, pricing: [] }));
    const lines = toolTurn('Read', { file_path: 'f' }, 'x', { input_tokens: 1_000_000, output_tokens: 1_000_000 });
    expect(run(g, lines).reason).toBeUndefined();
    expect(g.spent.costUsd).toBeUndefined();
  });

  it('prices cache writes at 1.25× and cache reads at 0.1× input unless given', () => {
    const opus = DEFAULT_PRICING.find((p) => 'claude-opus-4-5-20251101'.includes(p.match));
    expect(opus?.input).toBe(5);
    expect(costOf({ input_tokens: 1e6, output_tokens: 1e6, cache_creation_input_tokens: 1e6, cache_read_input_tokens: 1e6 }, { match: 'm', input: 4, output: 20 })).toBeCloseTo(4 + 20 + 5 + 0.4, 9);
    expect(costOf({ cache_read_input_tokens: 1e6 }, { match: 'm', input: 4, output: 20, cache_read: 1 })).toBeCloseTo(1, 9);
  });
});

describe('the config behind the guard', () => {
  const cfg = (extra: Record<string, unknown>, agent: Record<string, unknown> = {}) =>
    parseConfig({ background: { ...extra, agents: [{ name: 'c', mode: 'per_task', command: ['claude'], stdout_adapter: 'claude-stream-json', ...agent }] } }).background;
  const loopOf = (bg: ReturnType<typeof cfg>) => (createRunGuard(bg.agents[0]!, bg) as unknown as { limits: GuardLimits } | undefined)?.limits;

  it('llm_progress settings reach the guard; on_loop: retry makes a loop retryable, off means no loop check', () => {
    expect(loopOf(cfg({}))?.loop).toEqual({ maxRepeats: 5, windowMs: 600_000, retry: false });
    expect(loopOf(cfg({ monitoring: { health_checks: { llm_progress: { max_repeats: 9, window: '2m', on_loop: 'retry' } } } }))?.loop).toEqual({ maxRepeats: 9, windowMs: 120_000, retry: true });
    expect(createRunGuard(cfg({ monitoring: { health_checks: { llm_progress: { enabled: false } } } }).agents[0]!, cfg({ monitoring: { health_checks: { llm_progress: { enabled: false } } } }))).toBeUndefined();
    expect(loopOf(cfg({ monitoring: { enabled: false } }, { max_turns: 7 }))).toMatchObject({ loop: undefined, maxTurns: 7 });
    // No adapter: no turns or cost to judge, but the agent's own steps (task.step) can still loop.
    const noAdapter = cfg({}, { stdout_adapter: 'none', max_turns: 3 });
    expect(loopOf(noAdapter)).toMatchObject({ maxTurns: undefined, maxCostUsd: undefined, loop: { maxRepeats: 5 } });
    const off = cfg({ monitoring: { health_checks: { llm_progress: { enabled: false } } } }, { stdout_adapter: 'none', max_turns: 3 });
    expect(createRunGuard(off.agents[0]!, off)).toBeUndefined();
  });

  it('max_cost_usd, max_turns and llm.pricing reach the guard', () => {
    const l = loopOf(cfg({ llm: { pricing: [{ match: 'mine', input: 1, output: 2 }] } }, { max_cost_usd: 2.5, max_turns: 40 }));
    expect(l).toMatchObject({ maxCostUsd: 2.5, maxTurns: 40, pricing: [{ match: 'mine', input: 1, output: 2 }] });
  });

  it('a task\'s own max_turns and max_cost_usd win over the agent\'s, either way, and the reason says whose limit it was', () => {
    const bg = cfg({}, { max_cost_usd: 2.5, max_turns: 40 });
    const limitsFor = (task: { max_turns?: number | null; max_cost_usd?: number | null }) => (createRunGuard(bg.agents[0]!, bg, task) as unknown as { limits: GuardLimits }).limits;
    expect(limitsFor({ max_turns: null, max_cost_usd: null })).toMatchObject({ maxTurns: 40, maxCostUsd: 2.5, fromTask: { turns: false, cost: false } });
    expect(limitsFor({ max_turns: 3, max_cost_usd: 9 })).toMatchObject({ maxTurns: 3, maxCostUsd: 9, fromTask: { turns: true, cost: true } });
    // An agent without limits of its own still gets a guard for a task that has them (loop checks off).
    const bare = cfg({ monitoring: { health_checks: { llm_progress: { enabled: false } } } });
    expect(createRunGuard(bare.agents[0]!, bare, {})).toBeUndefined();
    const g = createRunGuard(bare.agents[0]!, bare, { max_turns: 2 })!;
    expect(g).toBeDefined();
    expect(g.onEvent({ kind: 'progress', turns: 2, message: 'm' }, 0)).toBeUndefined();
    expect(g.onEvent({ kind: 'progress', turns: 3, message: 'm' }, 0)).toEqual({ cause: 'budget_exceeded', detail: "took 3 turns, over the task's max_turns 2", retryable: false });
    const byAgent = createRunGuard(bg.agents[0]!, bg)!;
    expect(byAgent.onEvent({ kind: 'progress', turns: 41, message: 'm' }, 0)).toMatchObject({ detail: 'took 41 turns, over max_turns 40' });
  });

  it('a loop the guard stopped fails the task, retryable as on_loop says; a spent budget is never retried', () => {
    const exit = { code: null, signal: 'SIGTERM' as const };
    const ending = (cause: 'tool_loop' | 'budget_exceeded', retryable: boolean) => ({ exit, stop: { cause, detail: 'd', retryable }, result: undefined, killed: false, durationMs: 5 });
    expect(runOutcome(ending('tool_loop', true))).toEqual({ outcome: 'failed', cause: 'tool_loop', error: 'd', retryable: true });
    expect(runOutcome(ending('tool_loop', false))).toMatchObject({ retryable: false });
    expect(runOutcome(ending('budget_exceeded', false))).toEqual({ outcome: 'failed', cause: 'budget_exceeded', error: 'd', retryable: false });
  });
});
