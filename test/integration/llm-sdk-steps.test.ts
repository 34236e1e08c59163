import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, processesWith, startSupervisor, taskEnded, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * Tool-loop detection (`llm_progress`) for agents that are not Claude CLI runs: real
 * Node and Python SDK agents (test/fixtures/agents/stepAgent.mjs, pythonStepAgent.py)
 * report their own steps with `ctx.step(name, input, output)`. A loop is ended on the
 * step that completes it (no timer); every wait is for the task's end, with a generous bound.
 */

interface Attempt { cause: string | null; counted: boolean | null }
interface TaskJson { id: string; status: string; attempts: number; error: string | null; attempt_history: Attempt[] }

const WAIT = 60_000;
/** A per_task process without an SDK (stdout_adapter none): it writes the same `task.step` on its protocol fd every 20 ms, for ever. */
const RAW_LOOP = `const s = new (require('node:net').Socket)({ fd: Number(process.env.AGENTIC_PROTOCOL_FD), readable: true, writable: true });
s.on('data', () => {});
const line = JSON.stringify({ type: 'task.step', task_id: process.env.AGENTIC_TASK_ID, name: 'fetch', summary: 'https://example.test/status', input_digest: 'in1', output_digest: 'out1' }) + '\\n';
setInterval(() => s.write(line), 20);`;

describe('SDK agents report their steps; llm_progress catches their loops', () => {
  let sup: RunningSupervisor;
  const submit = async (role: string, scenario: string) => {
    const r = await sup.api<{ task: TaskJson }>('POST', '/api/v1/tasks', { role, title: `${scenario} for ${role}`, payload: { scenario } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task.id;
  };
  const finished = (id: string) => taskEnded<TaskJson>(sup, id, WAIT);

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: { health_checks: { llm_progress: { max_repeats: 5, window: 120 } } },
      agents: [
        { name: 'noder', command: ['node', path.join(ROOT, 'test/fixtures/agents/stepAgent.mjs')] },
        { name: 'pyer', command: ['python3', path.join(ROOT, 'test/fixtures/agents/pythonStepAgent.py')] },
        { name: 'raw', mode: 'per_task', command: ['node', '-e', RAW_LOOP, `marker-raw-${process.pid}`], stop_timeout: 2 },
      ],
    });
  }, 60_000);

  afterAll(() => cleanup(sup));

  it.each([['noder', 'Node'], ['pyer', 'Python']])('%s (%s SDK): a step loop fails the task (tool_loop, not retried), the agent is told to cancel it and takes the next task', async (role) => {
    const id = await submit(role, 'loop');
    const t = await finished(id);
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^called read_file note\.txt 5 times in [\d.]+ (ms|s) with the same input and the same answer \(llm_progress\.max_repeats 5\)$/);
    expect(t.attempts).toBe(1);
    expect(t.attempt_history.map((a) => [a.cause, a.counted])).toEqual([['tool_loop', true]]);
    // The handler saw the cancel (its loop ended), and the replica is free: a legitimate task completes on it.
    expect(sup.output()).toContain(`task ${id} stopped: ${role}-0 called read_file note.txt 5 times`);
    await waitFor(`${role}'s handler to see the cancel`, async () => (await sup.cli(['background', 'logs', role, '--json', '-n', '200'])).stdout.includes('step fixture cancelled'), WAIT);
    const ok = await finished(await submit(role, 'poll'));
    expect(ok.status, ok.error ?? '').toBe('completed');
  });

  it('a per_task run without a stdout adapter that reports its steps on the protocol is killed in a loop the same way', async () => {
    const t = await finished(await submit('raw', 'loop'));
    expect(t.status).toBe('failed');
    expect(t.error).toMatch(/^called fetch https:\/\/example\.test\/status 5 times in [\d.]+ (ms|s) with the same input and the same answer/);
    expect(t.attempt_history.map((a) => a.cause)).toEqual(['tool_loop']);
    expect(processesWith(`marker-raw-${process.pid}`)).toEqual([]);
  });

  it('every loop caught is counted on /metrics by agent, service agents\' included (agentic_tool_loops_total)', async () => {
    const m = parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus');
    for (const agent of ['noder', 'pyer', 'raw']) expect(m.value('agentic_tool_loops_total', { agent, role: agent }), agent).toBe(1);
    expect(m.value('agentic_task_runs_total', { agent: 'raw', role: 'raw', outcome: 'failed', cause: 'tool_loop' })).toBe(1);
  });
});
