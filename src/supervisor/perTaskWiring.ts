import type { AgentConfig } from '../config/schema.js';
import { ENV } from '../protocol/messages.js';
import type { LlmUsage } from '../queue/Task.js';
import type { LogStore } from '../telemetry/LogStore.js';
import { createStdoutAdapter } from './adapters/index.js';
import { resultErrorText } from './adapters/resultError.js';
import { PerTaskAgent, type TaskRun } from './PerTaskAgent.js';
import { describeExit } from './ReplicaState.js';
import { secretValues } from './secrets.js';
import type { Supervisor } from './Supervisor.js';

/**
 * Creates a per_task agent and connects its events to the supervisor's queue,
 * logs and telemetry: adapter progress becomes task progress, the final `result`
 * event's usage is stored with the task, and exit code 0 completes the task.
 */
export function createPerTaskAgent(sup: Supervisor, a: AgentConfig, logStore: LogStore | undefined): PerTaskAgent {
  const p = new PerTaskAgent(
    a,
    ({ task }) => ({ cwd: a.cwd, env: sup.agentEnv(a, { [ENV.AGENT_ID]: `${a.name}:${task.id}`, [ENV.TASK_ID]: task.id, [ENV.TRACEPARENT]: task.traceparent ?? '' }), maxLineBytes: sup.bg.protocol.max_line_bytes, stdoutMaxLineBytes: a.max_result_bytes }),
    () => createStdoutAdapter(a.stdout_adapter),
  );
  const secrets = secretValues(a, process.env);
  const runInfo = (run: TaskRun) => ({ agent: a.name, role: p.role, slot: run.slot, taskId: run.task.id, traceparent: run.task.traceparent, attempt: run.task.attempts, startedAt: run.startedAt });
  p.on('started', (run) => sup.emit('runStarted', runInfo(run)));
  const ctx = (run: TaskRun) => ({ agent: a.name, role: p.role, task_id: run.task.id, trace_id: run.task.correlation_id });
  p.on('output', (run, stream, line) => {
    // The adapter's stream is the task's record; raw events are kept at debug level in the agent log.
    logStore?.agentLine({ agent: a.name, role: p.role, replica: run.slot, task_id: run.task.id, trace_id: run.task.correlation_id, secrets }, stream, line);
  });
  p.on('adapter', (run, ev) => {
    if (ev.kind === 'progress') {
      sup.queue.progress(run.task.id, undefined, `turn ${ev.turns}: ${ev.message}`);
      sup.emit('taskProgress', { taskId: run.task.id, agent: a.name });
      sup.emit('runProgress', { ...runInfo(run), turns: ev.turns, message: ev.message, usage: ev.usage });
    } else if (ev.kind === 'oversized') {
      // The line itself is not kept: its log record is what could be read of it.
      logStore?.agentLine({ agent: a.name, role: p.role, replica: run.slot, task_id: run.task.id, trace_id: run.task.correlation_id, secrets }, 'stdout', JSON.stringify({ ...ev.standIn, level: 'warn', oversized_bytes: ev.bytes }));
      sup.emit('stdoutOversized', { agent: a.name, role: p.role, slot: run.slot, taskId: run.task.id, bytes: ev.bytes, limit: ev.limit });
      sup.log.warn({ ...ctx(run), bytes: ev.bytes, max_result_bytes: ev.limit }, `a stdout line of ${ev.bytes} bytes from ${a.name} (task ${run.task.id}) is over max_result_bytes (${ev.limit}): cut, its usage and cost read from its first and last 64 KiB; raise max_result_bytes to keep such lines whole`);
    }
  });
  p.on('message', (run, m) => {
    // The slot is the one metrics, health and logs use for a running per_task process.
    sup.emit('message', { agent: a.name, slot: `${a.name}:${run.task.id}`, message: m });
    if (m.type === 'task.progress') {
      sup.queue.progress(run.task.id, m.progress, m.message);
      sup.emit('taskProgress', { taskId: run.task.id, agent: a.name });
    }
  });
  p.on('protocolError', (run, reason, detail) => {
    sup.emit('protocolError', { agent: a.name, reason, detail });
    sup.log.debug({ ...ctx(run), reason, detail }, `malformed protocol line from ${a.name}:${run.task.id}`);
  });
  p.on('finished', (run, info) => {
    const durationMs = Date.now() - run.startedAt;
    const r = run.result;
    const llm: LlmUsage | undefined = r ? { num_turns: r.num_turns, duration_ms: r.duration_ms, total_cost_usd: r.total_cost_usd, usage: r.usage } : undefined;
    if (llm) sup.emit('llmUsage', { agent: a.name, role: p.role, llm });
    if (sup.queue.get(run.task.id)?.status === 'cancelled') {
      sup.emit('runFinished', { ...runInfo(run), outcome: 'released', cause: 'cancelled', durationMs, llm });
      sup.log.info(ctx(run), `cancelled task ${run.task.id} stopped`);
    } else if (p.stopping) {
      sup.queue.fail(run.task.id, 'supervisor stopped', true);
      sup.emit('runFinished', { ...runInfo(run), outcome: 'released', cause: 'supervisor_stopped', durationMs, llm });
    } else if (info.code === 0 && (!r || r.ok)) {
      sup.emit('runFinished', { ...runInfo(run), outcome: 'completed', durationMs, llm });
      sup.queue.complete(run.task.id, r?.result ?? null, llm);
      sup.finishTask(run.task, a.name, p.role, 'completed', durationMs);
      sup.log.info({ ...ctx(run), duration_ms: durationMs, cost_usd: r?.total_cost_usd, turns: r?.num_turns }, `task ${run.task.id} completed`);
    } else {
      const why = r && !r.ok ? resultErrorText(r) : describeExit(info);
      sup.emit('runFinished', { ...runInfo(run), outcome: 'failed', cause: 'agent_failed', durationMs, llm, error: why });
      const outcome = sup.queue.fail(run.task.id, why, true, llm);
      sup.finishTask(run.task, a.name, p.role, outcome === 'dead_lettered' ? 'dead_lettered' : 'failed', durationMs);
      sup.log.warn({ ...ctx(run), code: info.code, signal: info.signal, outcome }, `task ${run.task.id} failed: ${why}`);
    }
    sup.writePidFile();
    setImmediate(() => sup.pump());
  });
  return p;
}
