import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskWithHistory } from '../../src/queue/Task.js';
import { ROOT, cleanup, processesWith, restartSupervisor, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

const REPLAY = path.join(ROOT, 'test/fixtures/agents/claudeReplay.mjs');
const RECORDED = (name: string) => path.join(ROOT, 'test/fixtures/claude-stream-json', name);
const SUCCESS_COST = 0.0874512; // total_cost_usd of success.ndjson's result line
const ERROR_COST = 0.0213377; // … of error-result.ndjson's

const getTask = async (sup: RunningSupervisor, id: string) => (await sup.api<{ task: TaskWithHistory }>('GET', `/api/v1/tasks/${id}`)).body.task;
const lines = (file: string) => { try { return readFileSync(file, 'utf8').split('\n').filter(Boolean); } catch { return []; } };
/** Records of `agent`'s live log file for `taskId` (what the central log store has on disk). */
const stored = (sup: RunningSupervisor, agent: string, taskId: string) =>
  lines(path.join(sup.stateDir, 'logs', `${agent}.log`)).map((l) => JSON.parse(l) as { task_id?: string; type?: string }).filter((r) => r.task_id === taskId);
const costOnMetrics = async (sup: RunningSupervisor): Promise<number | undefined> => {
  const text = await (await fetch(`${sup.url}/metrics`)).text();
  const m = /^agentic_llm_cost_usd_total\{agent="deva",role="deva"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
};

/**
 * One per_task claude run per story. The run prints its stream (the recorded one) and
 * lingers; the supervisor is SIGKILLed once the chosen line is on disk, so it never sees
 * the run exit. The next supervisor reaps the run and decides from the stored output.
 */
async function killedWhileRunning(recording: string, opts: { firstLines?: number; until: 'result' | 'init'; maxAttempts?: number }) {
  const spawns = path.join(tmpdir(), `agentic-spawns-${randomUUID()}`);
  let sup = await startSupervisor({
    queue: { max_attempts: opts.maxAttempts ?? 3, retry_backoff: { initial: 0.1 } },
    agents: [{
      name: 'deva', mode: 'per_task', stdout_adapter: 'claude-stream-json', command: ['node', REPLAY, spawns, RECORDED(recording)],
      env: { REPLAY_LINGER_MS: '600000', ...(opts.firstLines ? { REPLAY_FIRST_LINES: String(opts.firstLines) } : {}) },
    }],
  });
  const task = (await sup.api<{ task: TaskWithHistory }>('POST', '/api/v1/tasks', { role: 'deva', title: 'story', prompt: 'add coupon validation' })).body.task;
  await waitFor(`the run's ${opts.until} line on disk`, () => stored(sup, 'deva', task.id).some((r) => (opts.until === 'result' ? r.type === 'result' : r.type === 'system')));
  // Everything the first run prints must be on disk before the kill: a line written after
  // it meets a pipe with no reader, and the replay exits on EPIPE (the run would not outlive
  // its supervisor). The result line is the last one; for a cut-short run, count its lines.
  if (opts.firstLines) await waitFor(`the run's first ${opts.firstLines} lines on disk`, () => stored(sup, 'deva', task.id).length >= opts.firstLines!);
  sup.proc.kill('SIGKILL');
  await waitFor('the supervisor to die', () => sup.proc.signalCode !== null);
  expect(processesWith(spawns)).toHaveLength(1); // the run outlived its supervisor
  sup = await restartSupervisor(sup);
  return { sup, task, spawns };
}

describe('never paying twice: a run that finished while no supervisor watched is completed from its stored output', () => {
  let sup: RunningSupervisor | undefined;
  let spawns: string | undefined;
  afterEach(() => {
    cleanup(sup);
    sup = undefined;
    if (spawns) rmSync(spawns, { force: true });
  });

  it('completes the task from the stored result line, does not run the story again, and counts its cost once', async () => {
    const r = await killedWhileRunning('success.ndjson', { until: 'result' });
    ({ sup, spawns } = r);
    const done = await waitFor('the task to be completed', async () => { const t = await getTask(sup!, r.task.id); return t.status === 'completed' ? t : undefined; });
    expect(lines(r.spawns)).toHaveLength(1);
    expect(processesWith(r.spawns)).toEqual([]); // the lingering run was reaped, not adopted
    expect(done.result).toMatch(/validateCoupon/);
    expect(done.llm).toMatchObject({ num_turns: 4, total_cost_usd: SUCCESS_COST });
    expect(done.attempt_history).toEqual([expect.objectContaining({ n: 1, cause: 'completed', detail: 'recovered from stored output', counted: true, llm: expect.objectContaining({ total_cost_usd: SUCCESS_COST }) })]);
    expect(await costOnMetrics(sup)).toBe(SUCCESS_COST);
    expect(sup.output()).toMatch(/completed from its stored output/);
  }, 120_000);

  it('runs the story again, without using up an attempt, when the stored output holds no result yet', async () => {
    const r = await killedWhileRunning('success.ndjson', { until: 'init', firstLines: 2, maxAttempts: 1 });
    ({ sup, spawns } = r);
    const done = await waitFor('the task to be completed by a second run', async () => { const t = await getTask(sup!, r.task.id); return t.status === 'completed' ? t : undefined; }, 30_000);
    expect(lines(r.spawns)).toHaveLength(2);
    expect(done.attempt_history.map((a) => [a.cause, a.counted])).toEqual([['supervisor_lost', false], ['completed', true]]);
    expect(done.attempt_history[1]!.detail).toBeNull();
    expect(await costOnMetrics(sup)).toBe(SUCCESS_COST);
  }, 120_000);

  it('fails the attempt from a stored error result (counted, with its cost) instead of running it again', async () => {
    const r = await killedWhileRunning('error-result.ndjson', { until: 'result', maxAttempts: 1 });
    ({ sup, spawns } = r);
    const failed = await waitFor('the task to be dead-lettered', async () => { const t = await getTask(sup!, r.task.id); return t.status === 'failed' ? t : undefined; });
    expect(lines(r.spawns)).toHaveLength(1);
    expect(failed.error).toMatch(/^claude result error_during_execution after 2 turns: Error: connect ECONNREFUSED 127\.0\.0\.1:5432 \(recovered from stored output\)/);
    expect(failed.attempt_history).toEqual([expect.objectContaining({ cause: 'agent_failed', counted: true, llm: expect.objectContaining({ total_cost_usd: ERROR_COST }) })]);
    expect(await costOnMetrics(sup)).toBe(ERROR_COST);
  }, 120_000);
});
