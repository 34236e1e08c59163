import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleStats } from '../../src/queue/taskStats.js';
import type { Task } from '../../src/queue/Task.js';
import type { AgentStatus } from '../../src/supervisor/statusSnapshot.js';
import { parseExposition, type Parsed } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, startSupervisor, taskEnded, taskOf, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * per_task runs of claude stream-json through the whole path, on a real supervisor
 * (dist/) with real child processes: a 16 MB result line, the same line over a
 * lowered max_result_bytes, a run that fails once and then succeeds (both with
 * cost), an error result, and the demo's fake claude as `logs` and `status` show it.
 */

const RUN = path.join(ROOT, 'test/fixtures/agents/claudeRun.mjs');
const FAKE = path.join(ROOT, 'examples/agents/fake-claude.mjs');
const MiB = 1024 * 1024;
const claudeRun = (name: string, env: Record<string, string>, extra: Record<string, unknown> = {}) =>
  ({ name, mode: 'per_task', command: ['node', RUN, '{prompt}'], stdout_adapter: 'claude-stream-json', env, ...extra });

describe('per_task claude runs, every surface', () => {
  let sup: RunningSupervisor;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'per-task-stream-'));
    sup = await startSupervisor({
      queue: { max_attempts: 2 },
      agents: [
        claudeRun('big', { CLAUDE_RUN_RESULT_BYTES: String(16 * MiB) }),
        claudeRun('capped', { CLAUDE_RUN_RESULT_BYTES: String(16 * MiB) }, { max_result_bytes: MiB }),
        claudeRun('flaky', { CLAUDE_RUN_FAIL_FIRST: path.join(tmp, 'failed-once'), CLAUDE_RUN_COST: '0.08' }),
        { name: 'failing', mode: 'per_task', command: ['node', FAKE, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '0', FAKE_CLAUDE_FAIL: '1', FAKE_CLAUDE_TURNS: '3' } },
        { name: 'deva', mode: 'per_task', command: ['node', FAKE, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '50', FAKE_CLAUDE_TURNS: '4' } },
        // stops in its first tool call until signalled: a run that stays in flight
        { name: 'stuck', mode: 'per_task', command: ['node', FAKE, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '0', FAKE_CLAUDE_HANG: '1' }, stop_timeout: 2 },
      ],
    });
  }, 30_000);
  afterAll(() => {
    cleanup(sup);
    rmSync(tmp, { recursive: true, force: true });
  });

  const submit = async (role: string, prompt = `story for ${role}`): Promise<Task> => {
    const r = await sup.api<{ task: Task }>('POST', '/api/v1/tasks', { role, title: `story for ${role}`, prompt });
    expect(r.status).toBe(201);
    return r.body.task;
  };
  const task = (id: string) => taskOf<Task>(sup, id);
  const finished = (id: string) => taskEnded<Task>(sup, id, 60_000);
  const scrape = async (): Promise<Parsed> => parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');

  it('reads a 16 MB result line whole: the task completes with its cost, the result is stored cut with a marker, nothing is oversized', async () => {
    const t = await finished((await submit('big')).id);
    expect(t.status).toBe('completed');
    expect(t.llm).toMatchObject({ total_cost_usd: 0.05, num_turns: 2, usage: { input_tokens: 21, output_tokens: 201 } });
    expect(t.result).toMatch(/^Rx+… \[16777216 bytes, cut\]$/);
    const p = await scrape();
    expect(p.value('agentic_llm_cost_usd_total', { agent: 'big', role: 'big' })).toBe(0.05);
    expect(p.value('agentic_stdout_lines_oversized_total', { agent: 'big', role: 'big' })).toBe(0);
    const logs = await sup.cli(['background', 'logs', 'big', '--task', t.id]);
    expect(logs.stdout).toMatch(/INFO +big-0 +result: success, 2 turns, \$0\.0500, 1 s +\[task=/);
  }, 90_000);

  it('cuts the same line over a lowered max_result_bytes: a warning and a count, and its usage and cost still recorded', async () => {
    const t = await finished((await submit('capped')).id);
    expect(t.status).toBe('completed');
    expect(t.llm).toMatchObject({ total_cost_usd: 0.05, num_turns: 2, usage: { input_tokens: 21, output_tokens: 201, cache_read_input_tokens: 10_000 } });
    const cut = /^Rx+… \[result line of (\d+) bytes, over max_result_bytes 1048576: its text is cut\]$/.exec(String(t.result));
    expect(Number(cut?.[1])).toBeGreaterThan(16 * MiB);
    expect(Number(cut?.[1])).toBeLessThan(16 * MiB + 1024);
    const p = await scrape();
    expect(p.value('agentic_stdout_lines_oversized_total', { agent: 'capped', role: 'capped' })).toBe(1);
    expect(p.value('agentic_llm_cost_usd_total', { agent: 'capped', role: 'capped' })).toBe(0.05);
    expect(p.value('agentic_llm_turns_total', { agent: 'capped', role: 'capped' })).toBe(2);
    const logs = await sup.cli(['background', 'logs', '--task', t.id]);
    expect(logs.stdout).toMatch(/WARN +capped-0 +result: success, 2 turns, \$0\.0500, 1 s, line of 16\.0 MiB cut/);
    expect(logs.stdout).toMatch(/WARN +capped-0 +a stdout line of \d+ bytes from capped-0 \(task \S+\) is over max_result_bytes \(1048576\)/);
  }, 90_000);

  it('counts a task that failed once and then succeeded the same on /metrics and in `background metrics`: every attempt\'s cost, tokens and turns', async () => {
    const t = await finished((await submit('flaky')).id);
    expect(t.status).toBe('completed');
    expect(t.attempts).toBe(2);
    const p = await scrape();
    const labels = { agent: 'flaky', role: 'flaky' };
    const scraped = {
      cost: p.value('agentic_llm_cost_usd_total', labels), turns: p.value('agentic_llm_turns_total', labels),
      input: p.value('agentic_llm_tokens_total', { ...labels, type: 'input' }), output: p.value('agentic_llm_tokens_total', { ...labels, type: 'output' }),
      cache: (p.value('agentic_llm_tokens_total', { ...labels, type: 'cache_read' }) ?? 0) + (p.value('agentic_llm_tokens_total', { ...labels, type: 'cache_creation' }) ?? 0),
    };
    // the failed attempt: $0.04, 1 turn, 10 in / 100 out / 6000 cache; the successful one: $0.08, 2 turns, 21 / 201 / 12000
    expect(scraped).toEqual({ cost: 0.12, turns: 3, input: 31, output: 301, cache: 18_000 });
    expect(p.value('agentic_task_runs_total', { ...labels, outcome: 'failed', cause: 'agent_failed' })).toBe(1);
    expect(p.value('agentic_task_runs_total', { ...labels, outcome: 'completed', cause: 'none' })).toBe(1);
    const r = await sup.cli(['background', 'metrics', '--json', '--window', '1h']);
    expect(r.code).toBe(0);
    const flaky = (JSON.parse(r.stdout) as { roles: RoleStats[] }).roles.find((x) => x.role === 'flaky');
    expect(flaky?.llm).toEqual({ cost_usd: scraped.cost, turns: scraped.turns, input_tokens: scraped.input, output_tokens: scraped.output, cache_tokens: scraped.cache, runs: 2 });
    const human = await sup.cli(['background', 'metrics', '--window', '1h']);
    expect(human.stdout).toMatch(/^flaky +\$0\.1200 +3 +31 +301 +18000$/m);
  }, 90_000);

  it('names the result subtype and turns in the task error, in `tasks` and in the logs', async () => {
    const t = await finished((await submit('failing')).id);
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^claude result error_during_execution after 2 turns: Tool execution failed: npm test exited with code 1/);
    const tasks = await sup.cli(['background', 'tasks', '--role', 'failing']);
    expect(tasks.stdout).toMatch(new RegExp(`${t.id} +failing +failed .*claude result error_during_execution after 2 turns`));
    const logs = await sup.cli(['background', 'logs', '--task', t.id, '--level', 'warn']);
    expect(logs.stdout).toMatch(/WARN +failing-0 +result: error_during_execution, 2 turns, \$0\.\d{4}, \d+ s: Tool execution failed/);
    expect(logs.stdout).toMatch(/WARN +failing-0 +task \S+ failed \(agent_failed\): claude result error_during_execution after 2 turns/);
  }, 90_000);

  it('shows a run in flight in `status`: slot, task, turns, tokens and their estimated cost so far', async () => {
    const t = await submit('stuck', 'Add coupon validation');
    // The fake writes its first turn as two events, the text and then the tool call it hangs in
    // (as claude does: one event per content block); status can be read between them, so wait
    // for the tool call.
    const live = await waitFor('a run in flight, stopped in its first tool call, in status', async () => {
      const agents = (await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents;
      const run = agents.find((a) => a.agent === 'stuck')?.runs?.[0];
      return run && run.turns >= 1 && (run.tokens ?? 0) > 0 && run.message?.startsWith('tool:') ? run : undefined;
    }, 30_000, 50);
    // the fake's first message for a 21-character prompt: 3 input, 1242 cache creation, 9000 cache read, 61 output tokens
    expect(live).toMatchObject({ slot: '0', task_id: t.id, attempt: 1, turns: 1, tokens: 10_306, message: 'tool: Read README.md' });
    // at sonnet's list prices ($3 in, $15 out, cache writes 1.25× and reads 0.1× input, per million tokens)
    expect(live.cost_usd_estimated).toBeCloseTo((3 * 3 + 61 * 15 + 1242 * 3.75 + 9000 * 0.3) / 1e6, 9);
    const human = await sup.cli(['background', 'status']);
    expect(human.stdout).toMatch(new RegExp(`^stuck +0 +${t.id} +1 +running \\d+s +1 +10\\.3k +~\\$0\\.0083 +tool: Read README\\.md$`, 'm'));
    expect((await sup.api('POST', `/api/v1/tasks/${t.id}/cancel`)).status).toBe(200);
    await waitFor('the cancelled run to end', async () => (await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents.find((a) => a.agent === 'stuck')?.runs?.length === 0);
  }, 90_000);

  it('shows the demo\'s fake claude as one readable line per event in `logs` (and raw with --json), and its last run in `status`', async () => {
    const t = await submit('deva', 'Add coupon validation');
    await finished(t.id);
    const status = JSON.parse((await sup.cli(['background', 'status', '--json'])).stdout).agents as AgentStatus[];
    const deva = status.find((a) => a.agent === 'deva');
    expect(deva?.runs).toEqual([]);
    expect(deva?.last_run).toMatchObject({ task_id: t.id, outcome: 'completed', turns: 4, cost_usd: (await task(t.id)).llm?.total_cost_usd });
    expect((await sup.cli(['background', 'status'])).stdout).toMatch(new RegExp(`^deva +0 +${t.id} +1 +last: completed \\d+s +4 +\\d+\\.\\dk +\\$0\\.\\d{4}`, 'm'));

    const logs = (await sup.cli(['background', 'logs', 'deva', '--task', t.id])).stdout.trim().split('\n');
    const messages = logs.map((l) => l.replace(/^\S+ \S+ +\S+ +/, '').replace(/ +\[task=.*$/, ''));
    expect(messages).toEqual([
      expect.stringMatching(/^session start: claude-sonnet-4-5-20250929, 8 tools, cwd /),
      'Let me read the README to understand the project.',
      'tool: Read README.md',
      'tool result: # Project',
      'Searching for the code this story touches.',
      'tool: Grep TODO',
      'tool result: src/index.ts:12: // TODO implement',
      'Now I will make the change.',
      'tool: Edit src/index.ts',
      'tool result: The file has been updated.',
      'Story complete after 4 turns. The prompt I worked on was:',
      expect.stringMatching(/^result: success, 4 turns, \$0\.\d{4}, \d+ s$/),
    ]);
    expect(logs.every((l) => / deva-0 /.test(l))).toBe(true);
    const raw = (await sup.cli(['background', 'logs', 'deva', '--task', t.id, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(raw.map((r) => r.type)).toEqual(['system', 'assistant', 'assistant', 'user', 'assistant', 'assistant', 'user', 'assistant', 'assistant', 'user', 'assistant', 'result']);
    expect(raw.every((r) => r.replica === 'deva-0' && r.agent === 'deva' && r.task_id === t.id)).toBe(true);
  }, 90_000);
});
