import type { AgentConfig } from '../config/schema.js';
import type { AgentMessage } from '../protocol/messages.js';
import { ENV } from '../protocol/messages.js';
import { COUNTED_CAUSES, type AttemptCause, type ReleaseCause } from '../queue/Task.js';
import type { LineContext, LogStore } from '../telemetry/LogStore.js';
import { replicaAttemptCause } from './attemptCause.js';
import { Replica } from './Replica.js';
import { loopLimits } from './perTaskWiring.js';
import type { StopReason } from './PerTaskRunState.js';
import { secretValues } from './secrets.js';
import { StepLoops } from './stepLoops.js';
import { recordProgress } from './recordProgress.js';
import type { Supervisor } from './Supervisor.js';

/** Applies one protocol message of a service replica to the queue, the stores and the logs. */
function onMessage(sup: Supervisor, r: Replica, m: AgentMessage, logStore: LogStore | undefined, steps: StepLoops): void {
  sup.emit('message', { agent: r.config.name, slot: r.slot, message: m });
  const ctx = { agent: r.config.name, role: r.role, replica: r.slot };
  switch (m.type) {
    case 'hello':
      sup.log.info({ ...ctx, pid: r.pid, capabilities: m.capabilities }, `${r.slot} connected (protocol ${m.protocol})`);
      break;
    case 'task.progress':
      // Only the task this process holds: never another replica's (nor a cancelled one's, nor track() work).
      if (r.task?.id !== m.task_id) break;
      recordProgress(sup, m.task_id, m.progress, m.message);
      sup.emit('taskProgress', { taskId: m.task_id, agent: r.config.name });
      break;
    case 'task.step': {
      if (!r.task || r.task.id !== m.task_id) break;
      const stop = steps.onStep(r.task, m, Date.now());
      if (stop) endLoopingTask(sup, r, stop, ctx);
      break;
    }
    case 'task.finished':
    case 'task.failed': {
      if (!r.task || r.task.id !== m.task_id) {
        // self-tracked work (track()) or a stale report: log only
        sup.log.info({ ...ctx, task_id: m.task_id, type: m.type, duration_ms: m.duration_ms }, `${r.slot} reported ${m.type} for ${m.task_id}`);
        break;
      }
      if (m.type === 'task.finished') void finished(sup, m.task_id, m.result, m.duration_ms, ctx);
      else {
        // A failure reported while the replica is being stopped is the stop's doing
        // (the SDKs abort the task on shutdown): it has the stop's cause.
        const stopping = r.stoppingFor;
        const cause = stopping === null && !sup.stopping ? 'agent_failed' : replicaAttemptCause(sup.stopping, stopping ?? undefined);
        if (COUNTED_CAUSES.has(cause)) void failed(sup, m.task_id, m.error, m.retryable, cause, m.duration_ms, ctx);
        else void releaseTask(sup, m.task_id, ctx, cause as ReleaseCause, `${r.slot} was stopped while it ran the task (it reported: ${m.error.message})`);
      }
      r.releaseTask();
      setImmediate(() => sup.pump());
      break;
    }
    case 'checkpoint':
      // In the order they came (a later checkpoint is never overwritten by an earlier one).
      sup.writes.then(`checkpoint\u0000${r.slot}`, () => sup.checkpoints.put(r.slot, m.state)).catch((err: Error) => {
        sup.warnings.warn(`${r.config.name}\u0000checkpoint`, `refused checkpoints from ${r.config.name}`, { ...ctx, err: err.message }, `rejected checkpoint from ${r.slot}: ${err.message}`);
      });
      break;
    case 'log':
      logStore?.write(r.config.name, { level: m.level, time: Date.now(), msg: m.msg, ...m.fields, ...ctx, task_id: r.task?.id, trace_id: r.task?.correlationId, stream: 'protocol' });
      break;
    default:
      break;
  }
}

/**
 * Creates one service replica slot and connects its events to the supervisor:
 * messages, output to the log store, lifecycle logs, escalations, and re-queueing
 * the task a dead replica held.
 */
export function createServiceReplica(sup: Supervisor, a: AgentConfig, index: number, logStore: LogStore | undefined): Replica {
  const steps = new StepLoops(loopLimits(sup.bg));
  const r = new Replica(a, index, {
    policy: sup.policy,
    spawnSpec: (rep) => ({ argv: a.command, cwd: a.cwd, env: sup.agentEnv(a, { [ENV.AGENT_ID]: rep.slot }), maxLineBytes: sup.bg.protocol.max_line_bytes }),
    restoredCheckpoint: async (slot) => {
      try {
        return (await sup.checkpoints.latest(slot))?.state;
      } catch (err) {
        sup.log.warn({ agent: a.name, replica: slot, err: (err as Error).message }, `could not read the checkpoint of ${slot} (${(err as Error).message}): its welcome carries none, and the agent starts from scratch`);
        return undefined;
      }
    },
    settings: () => ({ heartbeat_interval_ms: Math.max(1, Math.round(a.heartbeat_interval * 1000)), max_checkpoint_bytes: sup.bg.protocol.max_checkpoint_bytes, max_line_bytes: sup.bg.protocol.max_line_bytes, task_steps: steps.watching }),
  });
  const ctx = { agent: a.name, role: r.role, replica: r.slot };
  const secrets = secretValues(a, process.env);
  r.on('message', (m) => onMessage(sup, r, m, logStore, steps));
  r.on('idle', () => setImmediate(() => sup.pump()));
  // One context per task, not one object per line: under a stdout flood a per-line
  // object here was pretenured by V8 and filled the old space (docs/benchmarks.md, "Log flood").
  let lineTask: typeof r.task;
  let lineCtx: LineContext = { ...ctx, secrets };
  r.on('output', (stream, line) => {
    if (r.task !== lineTask) {
      lineTask = r.task;
      lineCtx = { ...ctx, task_id: lineTask?.id, trace_id: lineTask?.correlationId, secrets };
    }
    logStore?.agentLine(lineCtx, stream, line);
  });
  r.on('protocolError', (reason, detail) => {
    sup.emit('protocolError', { agent: a.name, reason, detail });
    sup.warnings.warn(`${a.name}\u0000protocol\u0000${reason}`, `malformed protocol lines (${reason}) from ${a.name}`, { ...ctx, reason, detail }, `malformed protocol line from ${r.slot} (${reason}): ${detail}`);
  });
  r.on('state', (next, prev) => {
    if (next.kind === 'starting') {
      sup.writePidFile();
      if (prev.kind !== 'stopped' || r.generation > 1) sup.emit('restart', { agent: a.name, slot: r.slot, reason: 'restart' });
    }
    if (next.kind === 'backoff') sup.log.warn({ ...ctx, restart_in_ms: next.restartAt - Date.now() }, `${r.slot} restarting in ${((next.restartAt - Date.now()) / 1000).toFixed(1)}s`);
    if (next.kind === 'circuit_open') sup.log.error({ ...ctx, retry_at: new Date(next.retryAt).toISOString() }, `${r.slot} circuit open until ${new Date(next.retryAt).toISOString()}`);
    if (next.kind === 'failed') sup.log.error({ ...ctx, reason: next.reason }, `${r.slot} failed: ${next.reason}`);
  });
  r.on('escalate', (reason, detail) => {
    const at = Date.now();
    const text = reason === 'circuit_open' ? `${r.slot}: circuit breaker open (${detail}); tasks wait for other replicas` : `${r.slot}: restart attempts exhausted (${detail})`;
    sup.events?.record(r.slot, 'escalation', { reason, detail });
    sup.log.error({ ...ctx, alert: reason, detail }, `ESCALATION ${text}`);
    sup.emit('escalation', { agent: a.name, role: r.role, slot: r.slot, reason, detail, at });
  });
  r.on('exit', (last, task, cause) => {
    sup.events?.record(r.slot, 'exit', last);
    sup.emit('agentExit', { agent: a.name, slot: r.slot, reason: last.reason });
    const level = sup.stopping ? 'info' : 'warn';
    sup.log[level]({ ...ctx, code: last.code, signal: last.signal, reason: last.reason }, `${r.slot} ${last.reason}`);
    const attrs = { 'agentic.agent': a.name, 'agentic.replica': r.slot, 'agentic.reason': last.reason };
    if (!task) sup.traceEvent('agent.exit', undefined, attrs);
    else {
      void sup.queue.get(task.id).then((t) => sup.traceEvent('agent.exit', t?.traceparent, attrs), () => sup.traceEvent('agent.exit', undefined, attrs));
      void requeueAfterExit(sup, task.id, ctx, replicaAttemptCause(sup.stopping, cause), `agent ${r.slot} exited (${last.reason})`);
    }
    sup.writePidFile();
  });
  return r;
}

type Ctx = { agent: string; role: string; replica: string };

/** Whether the task's outcome is no longer this supervisor's to write (PostgreSQL: its lease went to another). */
function notOurs(sup: Supervisor, taskId: string, ctx: Ctx, what: string): boolean {
  if (!sup.leaseGone(taskId)) return false;
  sup.log.info({ ...ctx, task_id: taskId, cause: 'supervisor_lost' }, `task ${taskId}: ${what} not recorded: another supervisor holds the task now`);
  return true;
}

/** The agent reported the task done. */
async function finished(sup: Supervisor, id: string, result: unknown, durationMs: number, ctx: Ctx): Promise<void> {
  if (notOurs(sup, id, ctx, 'its completion is')) return;
  try {
    const [task] = await sup.writes.outcome(id, `record that task ${id} completed`, () => Promise.all([sup.queue.get(id), sup.queue.complete(id, result)]));
    if (notOurs(sup, id, ctx, 'its completion is')) return; // refused: the lease went to another supervisor meanwhile
    if (task) sup.finishTask(task, ctx.agent, ctx.role, 'completed', durationMs);
    sup.log.info({ ...ctx, task_id: id, trace_id: task?.correlation_id, duration_ms: durationMs }, `task ${id} completed`);
  } catch (err) {
    sup.log.error({ ...ctx, task_id: id, err: (err as Error).message }, `could not record that task ${id} completed: ${(err as Error).message}`);
  }
}

/** The agent reported the task failed (a counted cause). */
async function failed(sup: Supervisor, id: string, error: { message: string }, retryable: boolean, cause: AttemptCause, durationMs: number, ctx: Ctx): Promise<void> {
  if (notOurs(sup, id, ctx, 'its failure is')) return;
  try {
    const [task, outcome] = await sup.writes.outcome(id, `record that task ${id} failed`, () => Promise.all([sup.queue.get(id), sup.queue.fail(id, error.message, retryable, undefined, cause)]));
    if (notOurs(sup, id, ctx, 'its failure is')) return;
    if (task) sup.finishTask(task, ctx.agent, ctx.role, outcome === 'dead_lettered' ? 'dead_lettered' : 'failed', durationMs);
    sup.log.warn({ ...ctx, task_id: id, trace_id: task?.correlation_id, error, outcome }, `task ${id} failed: ${error.message}`);
  } catch (err) {
    sup.log.error({ ...ctx, task_id: id, err: (err as Error).message }, `could not record that task ${id} failed: ${(err as Error).message}`);
  }
}

/**
 * A service replica's steps make a loop (`llm_progress`): the agent is told to cancel the
 * task (`task.cancel`, its handler's signal aborts) and is free for the next one, and the
 * task fails with cause `tool_loop`: re-queued with `on_loop: retry`, else dead-lettered.
 */
function endLoopingTask(sup: Supervisor, r: Replica, stop: StopReason, ctx: Ctx): void {
  const id = (r.task as { id: string }).id;
  r.process?.send({ type: 'task.cancel', task_id: id, reason: `tool_loop: ${stop.detail}` });
  r.releaseTask();
  sup.emit('toolLoop', { agent: ctx.agent, role: ctx.role, slot: r.slot, taskId: id, detail: stop.detail });
  try {
    sup.events?.record(r.slot, 'tool_loop', { task_id: id, detail: stop.detail });
  } catch {
    // a full disk: the log line below says it
  }
  if (notOurs(sup, id, ctx, 'its tool loop is')) return;
  sup.writes.outcome(id, `record that task ${id} looped`, () => Promise.all([sup.queue.get(id), sup.queue.fail(id, stop.detail, stop.retryable === true, undefined, 'tool_loop')])).then(([task, outcome]) => {
    if (notOurs(sup, id, ctx, 'its tool loop is')) return;
    if (task) sup.finishTask(task, ctx.agent, ctx.role, outcome === 'dead_lettered' ? 'dead_lettered' : 'failed', Date.now() - (task.started_at ?? Date.now()));
    const next = outcome === 'retry' ? 'it will be retried (on_loop: retry)' : 'it failed';
    sup.log.warn({ ...ctx, task_id: id, trace_id: task?.correlation_id, cause: 'tool_loop', outcome }, `task ${id} stopped: ${r.slot} ${stop.detail}; the agent was told to cancel it and ${next}`);
    setImmediate(() => sup.pump());
  }, (err: Error) => sup.log.error({ ...ctx, task_id: id, err: err.message }, `could not record that task ${id} looped: ${err.message}`));
}

/**
 * The task held by a replica that exited: re-queued after the retry backoff or
 * dead-lettered when the cause counts (a crash, a health restart), given back at once
 * when it does not (an operator restart, a stop).
 */
async function requeueAfterExit(sup: Supervisor, taskId: string, ctx: Ctx, cause: AttemptCause, why: string): Promise<void> {
  if (!COUNTED_CAUSES.has(cause)) {
    await releaseTask(sup, taskId, ctx, cause as ReleaseCause, why);
    return;
  }
  if (notOurs(sup, taskId, ctx, 'its exit is')) return;
  try {
    const [task, outcome] = await sup.writes.outcome(taskId, `re-queue task ${taskId}`, () => Promise.all([sup.queue.get(taskId), sup.queue.fail(taskId, why, true, undefined, cause)]));
    if (notOurs(sup, taskId, ctx, 'its exit is')) return;
    sup.traceEvent(outcome === 'retry' ? 'task.retry' : 'task.dead_letter', task?.traceparent, { 'agentic.task.id': taskId, 'agentic.agent': ctx.agent, 'agentic.reason': why });
    if (task) sup.finishTask(task, ctx.agent, ctx.role, outcome === 'dead_lettered' ? 'dead_lettered' : 'failed', Date.now() - (task.started_at ?? Date.now()));
    sup.log.warn({ ...ctx, task_id: taskId, trace_id: task?.correlation_id, outcome, cause }, `task ${taskId} ${outcome === 'retry' ? 're-queued' : 'dead-lettered'} (${cause}): ${why}`);
  } catch (err) {
    sup.log.error({ ...ctx, task_id: taskId, err: (err as Error).message }, `could not re-queue task ${taskId}: ${(err as Error).message}`);
  }
  setImmediate(() => sup.pump());
}

/** Gives a task's attempt back (it does not count) and puts the task back in the queue, due at once. */
async function releaseTask(sup: Supervisor, taskId: string, ctx: Ctx, cause: ReleaseCause, why: string): Promise<void> {
  if (notOurs(sup, taskId, ctx, 'its release is')) return;
  try {
    const [task, released] = await sup.writes.outcome(taskId, `give task ${taskId} back to the queue`, () => Promise.all([sup.queue.get(taskId), sup.queue.release(taskId, cause, why)]));
    if (!released) return;
    sup.traceEvent('task.release', task?.traceparent, { 'agentic.task.id': taskId, 'agentic.agent': ctx.agent, 'agentic.reason': why, 'agentic.cause': cause });
    sup.log.info({ ...ctx, task_id: taskId, trace_id: task?.correlation_id, cause }, `task ${taskId} back in the queue (${cause}, the attempt does not count): ${why}`);
  } catch (err) {
    sup.log.error({ ...ctx, task_id: taskId, err: (err as Error).message }, `could not give task ${taskId} back to the queue: ${(err as Error).message}`);
  }
  setImmediate(() => sup.pump());
}
