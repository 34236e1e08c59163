import type { AgentConfig } from '../config/schema.js';
import type { LlmUsage, Task } from '../queue/Task.js';
import { createStdoutAdapter, type AdapterEvent } from './adapters/index.js';
import { resultErrorText } from './adapters/resultError.js';
import type { Supervisor } from './Supervisor.js';

/** Reads what a per_task run printed, from wherever its output was stored (the central log store). */
export interface TaskOutputReader {
  /**
   * The stdout lines `agent` printed for `taskId` at or after `sinceMs` (epoch ms),
   * oldest first, as stored (the log store keeps each JSON line as one JSON record).
   */
  stdoutLines(agent: string, taskId: string, sinceMs: number): string[];
}

type ResultEvent = Extract<AdapterEvent, { kind: 'result' }>;

/** The last `result` event among a run's stored stdout lines, as the agent's own stdout adapter parses it. */
export function storedResult(a: AgentConfig, lines: Iterable<string>): ResultEvent | undefined {
  const adapter = createStdoutAdapter(a.stdout_adapter);
  if (!adapter) return undefined;
  let result: ResultEvent | undefined;
  for (const line of lines) for (const ev of adapter.onLine(line)) if (ev.kind === 'result') result = ev;
  return result;
}

const LOST = 'the previous supervisor ended (killed or crashed) while the task was running';

/**
 * At start, for each task a previous supervisor left in progress: a per_task run of a
 * `claude-stream-json` agent whose stored output of its last attempt holds a `result`
 * event finished before (or while) that supervisor died, so the task is finished from
 * that result (usage counted once) instead of running the story, and paying for it,
 * again. Every other task goes back to the queue without using up an attempt
 * (`supervisor_lost`). The previous supervisor's processes are already gone (reaped).
 * `tasks` are those this supervisor left: on SQLite every task in progress, on PostgreSQL
 * those whose lease this supervisor's id still holds (`adoptLeases()`; the others belong
 * to live supervisors, or are taken over once their lease runs out).
 */
export async function recoverInProgress(sup: Supervisor, tasks: readonly Task[], reader: TaskOutputReader | undefined): Promise<void> {
  for (const t of tasks) {
    const a = sup.bg.agents.find((x) => x.name === t.assigned_to);
    if (reader && a?.mode === 'per_task' && a.stdout_adapter === 'claude-stream-json' && await finishFromStoredOutput(sup, t, a, reader)) continue;
    await sup.queue.release(t.id, 'supervisor_lost', LOST);
    sup.log.warn({ task_id: t.id, trace_id: t.correlation_id, cause: 'supervisor_lost' }, `task ${t.id} back in the queue: ${LOST} (the attempt does not count)`);
  }
}

async function finishFromStoredOutput(sup: Supervisor, t: Task, a: AgentConfig, reader: TaskOutputReader): Promise<boolean> {
  const attempt = await sup.queue.lastAttempt(t.id);
  const since = attempt && attempt.ended_at === null ? attempt.started_at : (t.started_at ?? t.created_at);
  let r: ResultEvent | undefined;
  try {
    r = storedResult(a, reader.stdoutLines(a.name, t.id, since));
  } catch (err) {
    sup.log.warn({ task_id: t.id, err: (err as Error).message }, `could not read the stored output of task ${t.id}; it runs again`);
    return false;
  }
  if (!r) return false;
  const role = a.role ?? a.name;
  const llm: LlmUsage = { num_turns: r.num_turns, duration_ms: r.duration_ms, total_cost_usd: r.total_cost_usd, usage: r.usage };
  const durationMs = r.duration_ms ?? Math.max(0, Date.now() - since);
  const info = { agent: a.name, role, slot: attempt?.replica ?? '0', taskId: t.id, traceparent: t.traceparent, attempt: t.attempt, startedAt: since };
  const ctx = { agent: a.name, role, task_id: t.id, trace_id: t.correlation_id, cost_usd: r.total_cost_usd, turns: r.num_turns };
  sup.emit('llmUsage', { agent: a.name, role, llm });
  if (r.ok) {
    sup.emit('runFinished', { ...info, outcome: 'completed', durationMs, llm });
    await sup.queue.complete(t.id, r.result ?? null, llm, 'recovered from stored output');
    sup.finishTask(t, a.name, role, 'completed', durationMs);
    sup.log.warn(ctx, `task ${t.id} completed from its stored output: its run printed its result before the previous supervisor ended, so the story is not run (and paid for) again`);
  } else {
    const why = `${resultErrorText(r)} (recovered from stored output)`;
    sup.emit('runFinished', { ...info, outcome: 'failed', cause: 'agent_failed', durationMs, llm, error: why });
    const outcome = await sup.queue.fail(t.id, why, true, llm, 'agent_failed');
    sup.finishTask(t, a.name, role, outcome === 'dead_lettered' ? 'dead_lettered' : 'failed', durationMs);
    sup.log.warn({ ...ctx, outcome }, `task ${t.id} failed: ${why}`);
  }
  return true;
}
