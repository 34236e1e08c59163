import type { AgentConfig, BackgroundConfig } from '../config/schema.js';
import { ENV } from '../protocol/messages.js';
import type { LlmUsage } from '../queue/Task.js';
import { taskCheckpointKey } from '../store/CheckpointStore.js';
import type { LogStore } from '../telemetry/LogStore.js';
import { createStdoutAdapter } from './adapters/index.js';
import { estimateCost } from './llmPricing.js';
import { PerTaskAgent } from './PerTaskAgent.js';
import type { PerTaskRun } from './PerTaskRun.js';
import type { RunEnding } from './PerTaskRunState.js';
import { runOutcome, type RunVerdict } from './runOutcome.js';
import { RunGuard, type GuardLimits } from './RunGuard.js';
import { RunPolicy } from './RunPolicy.js';
import { recordProgress } from './recordProgress.js';
import { secretValues } from './secrets.js';
import type { RunInfo, Supervisor } from './Supervisor.js';

/**
 * The session id stored for a task by an earlier run (its checkpoint), if any. A store
 * that cannot be read: undefined (logged), and the run starts afresh.
 */
export async function storedSession(sup: Supervisor, taskId: string): Promise<string | undefined> {
  try {
    const state = (await sup.checkpoints.latest(taskCheckpointKey(taskId)))?.state as { session_id?: unknown } | null | undefined;
    return typeof state?.session_id === 'string' ? state.session_id : undefined;
  } catch (err) {
    sup.log.warn({ task_id: taskId, err: (err as Error).message }, `could not read the stored session of task ${taskId} (${(err as Error).message}): its run starts afresh`);
    return undefined;
  }
}

/** Tool-loop detection's limits (`health_checks.llm_progress`), or undefined while it is off (or monitoring is). */
export function loopLimits(bg: Pick<BackgroundConfig, 'monitoring'>): GuardLimits['loop'] {
  const lp = bg.monitoring.health_checks.llm_progress;
  return bg.monitoring.enabled && lp.enabled ? { maxRepeats: lp.max_repeats, windowMs: lp.window * 1000, retry: lp.on_loop === 'retry' } : undefined;
}

/**
 * The guard of one run of `a` for a task: its budgets (`max_turns`, `max_cost_usd`: the
 * task's own, submitted with it, else the agent's) and tool-loop detection
 * (`health_checks.llm_progress`, while monitoring is on). Budgets need a stdout adapter
 * (turns and tokens come from it); loops are also caught from the steps an SDK agent
 * reports (`task.step`), so an agent without an adapter gets a loop-only guard.
 */
export function createRunGuard(a: AgentConfig, bg: Pick<BackgroundConfig, 'monitoring' | 'llm'>, task: { max_turns?: number | null | undefined; max_cost_usd?: number | null | undefined } = {}): RunGuard | undefined {
  const loop = loopLimits(bg);
  // Without an adapter only the agent's own steps (`task.step`) can be watched: turns and cost are unknown.
  if (a.stdout_adapter === 'none') return loop ? new RunGuard({ maxTurns: undefined, maxCostUsd: undefined, loop, pricing: bg.llm.pricing }) : undefined;
  const fromTask = { turns: task.max_turns != null, cost: task.max_cost_usd != null };
  const maxTurns = task.max_turns ?? a.max_turns;
  const maxCostUsd = task.max_cost_usd ?? a.max_cost_usd;
  if (loop === undefined && maxTurns === undefined && maxCostUsd === undefined) return undefined;
  return new RunGuard({ maxTurns, maxCostUsd, fromTask, loop, pricing: bg.llm.pricing });
}

/**
 * Creates a per_task agent and connects its runs to the supervisor's queue, stores,
 * logs and telemetry: adapter progress becomes task progress, the session a run
 * reports becomes the task's checkpoint (durable before the next line is read), and
 * each run's ending becomes one queue operation through {@link runOutcome}.
 */
export function createPerTaskAgent(sup: Supervisor, a: AgentConfig, logStore: LogStore | undefined): PerTaskAgent {
  const p = new PerTaskAgent(a, {
    spawnSpec: (task, slot) => ({
      cwd: a.cwd,
      env: sup.agentEnv(a, { [ENV.AGENT_ID]: `${a.name}-${slot}`, [ENV.TASK_ID]: task.id, [ENV.TASK_ATTEMPT]: String(task.attempt), [ENV.TRACEPARENT]: task.traceparent ?? '' }),
      maxLineBytes: sup.bg.protocol.max_line_bytes,
      stdoutMaxLineBytes: a.max_result_bytes,
    }),
    promptFiles: sup.promptFiles,
    policy: RunPolicy.fromConfig(a, sup.bg),
    adapter: () => createStdoutAdapter(a.stdout_adapter),
    guard: (task) => createRunGuard(a, sup.bg, task),
  });
  const secrets = secretValues(a, process.env);
  const runInfo = (run: PerTaskRun): RunInfo => ({ agent: a.name, role: p.role, slot: run.slot, taskId: run.task.id, traceparent: run.task.traceparent, attempt: run.task.attempt, startedAt: run.startedAt });
  const ctx = (run: PerTaskRun) => ({ agent: a.name, role: p.role, replica: run.slotId, task_id: run.task.id, trace_id: run.task.correlation_id });
  const sessions = new WeakMap<PerTaskRun, string>();

  p.on('started', (run, cmd) => {
    sup.emit('runStarted', runInfo(run));
    if (cmd.resumedSession) sup.log.info({ ...ctx(run), session_id: cmd.resumedSession, attempt: run.task.attempt }, `task ${run.task.id} resumes session ${cmd.resumedSession} (attempt ${run.task.attempt})`);
    // The adapter's stream is the task's record; raw events are kept in the agent log.
    const lineCtx = { ...ctx(run), secrets }; // one per run, not one per line (see replicaWiring)
    run.on('output', (stream, line) => logStore?.agentLine(lineCtx, stream, line));
    run.on('adapter', (ev) => {
      if (ev.kind === 'progress') {
        recordProgress(sup, run.task.id, undefined, `turn ${ev.turns}: ${ev.message}`);
        sup.emit('taskProgress', { taskId: run.task.id, agent: a.name });
        sup.emit('runProgress', { ...runInfo(run), turns: ev.turns, message: ev.message, usage: ev.usage, costUsd: estimateCost(ev.usage, ev.model, sup.bg.llm.pricing) });
      } else if (ev.kind === 'oversized') {
        // The line itself is not kept: its log record is what could be read of it.
        logStore?.agentLine({ ...ctx(run), secrets }, 'stdout', JSON.stringify({ ...ev.standIn, level: 'warn', oversized_bytes: ev.bytes }));
        sup.emit('stdoutOversized', { agent: a.name, role: p.role, slot: run.slot, taskId: run.task.id, bytes: ev.bytes, limit: ev.limit });
        sup.log.warn({ ...ctx(run), bytes: ev.bytes, max_result_bytes: ev.limit }, `a stdout line of ${ev.bytes} bytes from ${run.slotId} (task ${run.task.id}) is over max_result_bytes (${ev.limit}): cut, its usage and cost read from its first and last 64 KiB; raise max_result_bytes to keep such lines whole`);
      } else if (ev.kind === 'rate_limited') {
        sup.rateLimited(p.role, a.name, ev.detail);
      } else if (ev.kind === 'session') {
        sessions.set(run, ev.sessionId);
        const key = taskCheckpointKey(run.task.id);
        sup.writes.then(key, () => sup.checkpoints.put(key, { session_id: ev.sessionId, agent: a.name, attempt: run.task.attempts, at: Date.now() })).catch((err: Error) => {
          sup.log.warn({ ...ctx(run), err: err.message }, `could not store session ${ev.sessionId} of task ${run.task.id}: a retry will start afresh`);
        });
      }
    });
    run.on('message', (m) => {
      sup.emit('message', { agent: a.name, slot: run.slotId, message: m });
      if (m.type === 'task.progress') {
        recordProgress(sup, run.task.id, m.progress, m.message);
        sup.emit('taskProgress', { taskId: run.task.id, agent: a.name });
      }
    });
    run.on('protocolError', (reason, detail) => {
      sup.emit('protocolError', { agent: a.name, reason, detail });
      sup.warnings.warn(`${a.name}\u0000protocol\u0000${reason}`, `malformed protocol lines (${reason}) from ${a.name}`, { ...ctx(run), reason, detail }, `malformed protocol line from ${run.slotId} (${reason}): ${detail}`);
    });
    run.on('state', (next) => {
      if (next.kind !== 'stopping') return;
      const level = next.reason.cause === 'supervisor_stopped' || next.reason.cause === 'cancelled' ? 'info' : 'warn';
      sup.log[level]({ ...ctx(run), cause: next.reason.cause, pid: run.proc.pid }, `ending ${run.slotId} (task ${run.task.id}): ${next.reason.detail}; SIGTERM to its process group, SIGKILL after stop_timeout ${a.stop_timeout} s`);
    });
    run.on('killed', (reason) => sup.log.warn({ ...ctx(run), cause: reason.cause }, `${run.slotId} (task ${run.task.id}) did not exit within stop_timeout ${a.stop_timeout} s: sent SIGKILL to its process group`));
  });

  p.on('finished', (run, ending) => {
    const settled = (async () => {
      if (sup.leaseGone(run.task.id)) {
        sup.emit('runFinished', { ...runInfo(run), outcome: 'released', cause: 'supervisor_lost', durationMs: ending.durationMs });
        sup.log.info({ ...ctx(run), cause: 'supervisor_lost' }, `${run.slotId} (task ${run.task.id}) ended; its outcome is not recorded: another supervisor holds the task now`);
        return;
      }
      // Ordered after the run's progress and session writes (its checkpoint key is another chain).
      const cancelled = (await sup.writes.outcome(run.task.id, `read task ${run.task.id} to record how its run ended`, () => sup.queue.get(run.task.id)))?.status === 'cancelled';
      const v: RunVerdict = cancelled ? { outcome: 'released', cause: 'cancelled', detail: 'the task was cancelled' } : runOutcome(ending);
      await settle(sup, p, run, ending, v, ctx(run), sessions.has(run));
    })();
    settled.catch((err: Error) => {
      // The store is gone (a stop that did not wait) or broken: the task stays in progress and is recovered at the next start.
      sup.log.error({ ...ctx(run), err: err.message }, `could not record how ${run.slotId} (task ${run.task.id}) ended: ${err.message}`);
    }).finally(() => setImmediate(() => sup.pump()));
    sup.writePidFile();
  });
  return p;
}

/**
 * What a run that printed no `result` had used when it ended (killed over budget, in a
 * loop, timed out, crashed): its turns and tokens so far and their cost at the model's
 * price, marked `estimated`. Counted once, like any attempt's usage.
 */
function partialUsage(run: PerTaskRun, ending: RunEnding): LlmUsage | undefined {
  const s = run.guard?.spent;
  if (!s?.usage) return undefined;
  return { num_turns: s.turns, duration_ms: ending.durationMs, total_cost_usd: s.costUsd, usage: { ...s.usage }, estimated: true };
}

/** Applies a run's verdict to the queue and the checkpoint, and reports it (runFinished, taskFinished, logs). */
async function settle(sup: Supervisor, p: PerTaskAgent, run: PerTaskRun, ending: RunEnding, v: RunVerdict, ctx: Record<string, unknown>, sawSession: boolean): Promise<void> {
  const { task } = run;
  const info: RunInfo = { agent: p.config.name, role: p.role, slot: run.slot, taskId: task.id, traceparent: task.traceparent, attempt: task.attempt, startedAt: run.startedAt };
  const r = ending.result;
  const llm: LlmUsage | undefined = r ? { num_turns: r.num_turns, duration_ms: r.duration_ms, total_cost_usd: r.total_cost_usd, usage: r.usage } : partialUsage(run, ending);
  const durationMs = ending.durationMs;
  if (llm) sup.emit('llmUsage', { agent: p.config.name, role: p.role, llm });
  const key = taskCheckpointKey(task.id);
  if (v.outcome === 'completed') {
    sup.roleBackoff.succeeded(p.role, run.startedAt);
    sup.emit('runFinished', { ...info, outcome: 'completed', durationMs, llm });
    await sup.writes.outcome(task.id, `record that task ${task.id} completed`, () => sup.queue.complete(task.id, v.result?.result ?? null, llm));
    if (sup.leaseGone(task.id)) return; // refused: another supervisor holds the task (and may resume its session)
    await sup.writes.then(key, () => sup.checkpoints.drop(key)).catch(() => undefined); // a leftover session is pruned with the task
    sup.finishTask(task, p.config.name, p.role, 'completed', durationMs);
    const late = ending.stop ? ` (it was ended: ${ending.stop.detail})` : '';
    sup.log.info({ ...ctx, duration_ms: durationMs, cost_usd: r?.total_cost_usd, turns: r?.num_turns }, `task ${task.id} completed${late}`);
  } else if (v.outcome === 'failed') {
    sup.emit('runFinished', { ...info, outcome: 'failed', cause: v.cause, durationMs, llm, error: v.error });
    if (v.cause === 'tool_loop') sup.emit('toolLoop', { agent: p.config.name, role: p.role, slot: run.slotId, taskId: task.id, detail: v.error });
    const outcome = await sup.writes.outcome(task.id, `record that task ${task.id} failed`, () => sup.queue.fail(task.id, v.error, v.retryable, llm, v.cause));
    if (sup.leaseGone(task.id)) return;
    // A resumed run that failed before its session started: the session is likely gone; start afresh next time.
    if (v.cause === 'agent_failed' && !sawSession && await sup.writes.then(key, () => sup.checkpoints.latest(key)).catch(() => undefined)) {
      await sup.writes.then(key, () => sup.checkpoints.drop(key)).catch(() => undefined);
      sup.log.warn(ctx, `task ${task.id}: the resumed run failed before its session started; the next attempt starts afresh`);
    }
    sup.finishTask(task, p.config.name, p.role, outcome === 'dead_lettered' ? 'dead_lettered' : 'failed', durationMs);
    const next = outcome === 'retry' ? 'it will be retried' : outcome === 'dead_lettered' ? 'it is dead-lettered' : 'it was no longer in progress';
    sup.log.warn({ ...ctx, cause: v.cause, code: ending.exit.code, signal: ending.exit.signal, outcome }, `task ${task.id} failed (${v.cause}): ${v.error}; ${next}`);
  } else {
    sup.emit('runFinished', { ...info, outcome: 'released', cause: v.cause, durationMs, llm });
    if (v.cause === 'cancelled') {
      await sup.writes.then(key, () => sup.checkpoints.drop(key)).catch(() => undefined);
      sup.log.info(ctx, `cancelled task ${task.id} stopped`);
    } else {
      const released = await sup.writes.outcome(task.id, `give task ${task.id} back to the queue`, () => sup.queue.release(task.id, v.cause, v.detail));
      sup.log.info({ ...ctx, cause: v.cause }, `task ${task.id} ${released ? 'is pending again (no attempt used)' : 'was no longer in progress'}: ${v.detail}`);
    }
  }
}
