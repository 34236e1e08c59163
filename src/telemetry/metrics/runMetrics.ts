import { Histogram } from 'prom-client';
import type { SupervisorEvents } from '../../supervisor/Supervisor.js';
import { counter, stateGauge, traceExemplar, type AnyRegistry, type MetricGroup } from './define.js';
import type { SupervisorView } from './source.js';
import { TASK_DURATION_BUCKETS } from './taskMetrics.js';
import { TOKEN_TYPES } from './llmMetrics.js';

/** Causes a run that did not complete is counted under, by outcome (every one present from 0). */
export const RUN_CAUSES = {
  completed: ['none'],
  failed: ['agent_failed', 'crashed', 'timeout', 'stalled', 'budget_exceeded', 'tool_loop', 'spawn_failed'],
  released: ['operator_restart', 'supervisor_stopped', 'supervisor_lost', 'cancelled', 'rate_limited'],
} as const;
/** Cost of one run, US dollars. */
export const RUN_COST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25];
/** Tokens of one run, by type. */
export const RUN_TOKEN_BUCKETS = [100, 1000, 5000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000];
/** Turns of one run. */
export const RUN_TURN_BUCKETS = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200];

const nonNegative = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`). */
const traceIdOf = (traceparent: string | null): string | undefined => traceparent?.split('-')[1];

/**
 * The Runs table of docs/metrics.md: one observation per per_task run (one process,
 * one attempt of a task), from the supervisor's `runStarted` / `runFinished`
 * events, so a failed attempt's cost is seen as well as the one that completed.
 * Labels are agent and role (and outcome, cause, type); never a task id: the
 * run's trace id is the exemplar.
 */
export function registerRunMetrics(register: AnyRegistry, sup: SupervisorView): MetricGroup {
  const runs = counter(register, 'agentic_task_runs_total', 'Finished per_task runs by outcome (completed, failed, released) and cause (none, agent_failed, timeout, stalled, …); trace_id exemplars.', ['agent', 'role', 'outcome', 'cause'], true);
  const duration = new Histogram({
    name: 'agentic_task_run_duration_seconds', help: 'Wall time of finished per_task runs, spawn to exit; trace_id exemplars.',
    labelNames: ['agent', 'role', 'outcome'], buckets: TASK_DURATION_BUCKETS, registers: [register], enableExemplars: true,
  });
  // The run's trace id (its task's correlation id) is the exemplar: an expensive run leads to its story without a task-id label.
  const cost = new Histogram({
    name: 'agentic_task_run_cost_usd', help: 'total_cost_usd of one per_task run (runs that reported one); trace_id exemplars name the story.',
    labelNames: ['agent', 'role'], buckets: RUN_COST_BUCKETS, registers: [register], enableExemplars: true,
  });
  const tokens = new Histogram({ name: 'agentic_task_run_tokens', help: 'Tokens of one per_task run by type: input, output, cache_creation, cache_read.', labelNames: ['agent', 'role', 'type'], buckets: RUN_TOKEN_BUCKETS, registers: [register] });
  const turns = new Histogram({ name: 'agentic_task_run_turns', help: 'num_turns of one per_task run (runs that reported one).', labelNames: ['agent', 'role'], buckets: RUN_TURN_BUCKETS, registers: [register] });
  const oversized = counter(register, 'agentic_stdout_lines_oversized_total', 'per_task stdout lines over the agent\'s max_result_bytes: cut, their usage and cost read from their ends.', ['agent', 'role']);

  const inFlight = new Map<string, number>();
  const flightKey = (agent: string, role: string) => `${agent}\u0000${role}`;
  stateGauge(register, 'agentic_task_runs_in_flight', 'per_task runs whose process is running now.', ['agent', 'role'], (emit) => {
    for (const p of sup.perTask) emit({ agent: p.config.name, role: p.role }, inFlight.get(flightKey(p.config.name, p.role)) ?? 0);
  });

  const onStarted = (...[r]: SupervisorEvents['runStarted']) => {
    const k = flightKey(r.agent, r.role);
    inFlight.set(k, (inFlight.get(k) ?? 0) + 1);
  };
  const onFinished = (...[r]: SupervisorEvents['runFinished']) => {
    const k = flightKey(r.agent, r.role);
    inFlight.set(k, Math.max(0, (inFlight.get(k) ?? 0) - 1));
    const exemplarLabels = traceExemplar(traceIdOf(r.traceparent));
    const cause = r.outcome === 'completed' ? 'none' : (r.cause ?? 'agent_failed');
    runs.inc({ labels: { agent: r.agent, role: r.role, outcome: r.outcome, cause }, value: 1, exemplarLabels });
    duration.observe({ labels: { agent: r.agent, role: r.role, outcome: r.outcome }, value: Math.max(0, r.durationMs) / 1000, exemplarLabels });
    const labels = { agent: r.agent, role: r.role };
    const usd = nonNegative(r.llm?.total_cost_usd);
    if (usd !== undefined) cost.observe({ labels, value: usd, exemplarLabels });
    const n = nonNegative(r.llm?.num_turns);
    if (n !== undefined) turns.observe(labels, n);
    for (const [key, type] of Object.entries(TOKEN_TYPES)) {
      const t = nonNegative(r.llm?.usage?.[key]);
      if (t !== undefined) tokens.observe({ ...labels, type }, t);
    }
  };
  const backoffs = counter(register, 'agentic_role_rate_limit_backoffs_total', 'Backoffs of a role because the API rate-limited its runs (one per storm, not per run).', ['role']);
  stateGauge(register, 'agentic_role_rate_limited', '1 while a role is held back because the API rate-limited its runs (no new run starts), else 0.', ['role'], (emit) => {
    const held = sup.roleBackoff?.held(Date.now());
    for (const role of new Set(sup.perTask.map((p) => p.role))) emit({ role }, held?.has(role) ? 1 : 0);
  });
  // The shared_rate_limit system finding, on /metrics: the same test (RoleBackoff.shared), read at scrape time.
  stateGauge(register, 'agentic_llm_fleet_rate_limited', '1 while two or more roles are held by the API\'s rate limits at once (the account is limited: the shared_rate_limit system finding), else 0.', [], (emit) => {
    emit({}, sup.roleBackoff?.shared(Date.now()) ? 1 : 0);
  });
  const windowLabel = (ms: number) => (ms === 3_600_000 ? '1h' : '24h');
  stateGauge(register, 'agentic_llm_budget_usd', 'Rolling LLM budget of a role (llm.budgets.roles[]) by window (1h, 24h), US dollars.', ['role', 'window'], (emit) => {
    for (const b of sup.budgets?.limits() ?? []) if (b.role !== undefined) emit({ role: b.role, window: windowLabel(b.limit.windowMs) }, b.limit.usd);
  });
  stateGauge(register, 'agentic_llm_fleet_budget_usd', 'Rolling LLM budget of the whole fleet (llm.budgets.fleet) by window (1h, 24h), US dollars.', ['window'], (emit) => {
    for (const b of sup.budgets?.limits() ?? []) if (b.role === undefined) emit({ window: windowLabel(b.limit.windowMs) }, b.limit.usd);
  });
  stateGauge(register, 'agentic_role_budget_held', '1 while a role starts no new run because its rolling LLM budget (or the fleet\'s) is spent, else 0.', ['role'], (emit) => {
    for (const role of new Set(sup.perTask.map((p) => p.role))) emit({ role }, sup.budgetHolds?.has(role) ? 1 : 0);
  });
  const loops = counter(register, 'agentic_tool_loops_total', 'Tool loops caught by llm_progress: per_task runs killed, and service agents\' tasks cancelled, from a Claude stream or the steps an SDK agent reports.', ['agent', 'role']);
  const onLoop = (...[e]: SupervisorEvents['toolLoop']) => loops.inc({ agent: e.agent, role: e.role });
  const onBackoff = (...[e]: SupervisorEvents['roleBackoff']) => backoffs.inc({ role: e.role });
  const onOversized = (...[e]: SupervisorEvents['stdoutOversized']) => oversized.inc({ agent: e.agent, role: e.role });
  sup.on('runStarted', onStarted);
  sup.on('runFinished', onFinished);
  sup.on('stdoutOversized', onOversized);
  sup.on('roleBackoff', onBackoff);
  sup.on('toolLoop', onLoop);
  return {
    seed() {
      for (const p of sup.perTask) {
        const agent = p.config.name;
        for (const [outcome, causes] of Object.entries(RUN_CAUSES)) for (const cause of causes) runs.inc({ labels: { agent, role: p.role, outcome, cause }, value: 0 });
        oversized.inc({ agent, role: p.role }, 0);
        backoffs.inc({ role: p.role }, 0);
        loops.inc({ agent, role: p.role }, 0);
      }
      for (const r of sup.replicas) loops.inc({ agent: r.config.name, role: r.role }, 0);
    },
    close() {
      sup.off('runStarted', onStarted);
      sup.off('runFinished', onFinished);
      sup.off('stdoutOversized', onOversized);
      sup.off('roleBackoff', onBackoff);
      sup.off('toolLoop', onLoop);
    },
  };
}
