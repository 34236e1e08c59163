import type { CircuitBreakerState } from '../recovery/CircuitBreaker.js';
import type { Supervisor } from './Supervisor.js';

export interface AgentStatus {
  agent: string;
  role: string;
  replica: string;
  mode: 'service' | 'per_task';
  state: string;
  pid: number | null;
  uptime_seconds: number | null;
  restarts: number;
  restarts_by_reason: Record<string, number>;
  /** `last_progress_seconds`: since the last progress message (service) or output (per_task), or the start. */
  task: { id: string; progress: number | null; message: string | null; running_seconds: number; last_progress_seconds?: number | undefined } | null;
  /** per_task: processes running now and the cap; `replicas` are the runs' slot ids (`deva_ts-0`), in the order of `tasks`. */
  concurrency?: { running: number; max: number; tasks: string[]; replicas?: string[] | undefined } | undefined;
  /** per_task: the runs in flight, by slot, with turns, tokens and their estimated cost so far (the cost charged is known at the result). */
  runs?: RunStatus[] | undefined;
  /** per_task: the last finished run (kept across supervisor restarts); null before the first. */
  last_run?: LastRunStatus | null | undefined;
  cpu_percent: number | null;
  rss_bytes: number | null;
  last_heartbeat_age_seconds: number | null;
  protocol: boolean;
  sdk: string | null;
  /** backoff: when the next start happens; circuit_open: when the trial start happens. */
  restart_at: string | null;
  /** The replica's circuit breaker (service replicas, when the restart policy has one). */
  breaker?: 'closed' | 'open' | 'half_open' | undefined;
  last_exit: { at: string; code: number | null; signal: string | null; reason: string } | null;
  /** Environment variable names; values are never shown. */
  env_keys: string[];
}

/** One per_task run in flight. */
export interface RunStatus {
  slot: string;
  task_id: string;
  attempt: number;
  turns: number;
  /** input + output + cache tokens so far, null when the stream carries none yet. */
  tokens: number | null;
  /** Those tokens at the model's list price (`background.llm.pricing`), USD: an estimate; null when the model is not priced. The run's result carries the cost charged. */
  cost_usd_estimated: number | null;
  message: string | null;
  age_seconds: number;
}

/** The last finished per_task run of an agent. */
export interface LastRunStatus {
  task_id: string;
  slot: string;
  attempt: number;
  outcome: string;
  cause: string | null;
  error: string | null;
  turns: number | null;
  cost_usd: number | null;
  tokens: number | null;
  duration_seconds: number;
  finished_at: string;
}

const secs = (ms: number) => Math.round(ms / 100) / 10;
const sumTokens = (values: readonly (number | null | undefined)[]): number | null =>
  values.some((v) => typeof v === 'number') ? values.reduce<number>((a, v) => a + (v ?? 0), 0) : null;

/** The `status` view of every agent: no environment values, ever. */
export function agentStatuses(sup: Supervisor, now = Date.now()): AgentStatus[] {
  const out: AgentStatus[] = [];
  const policy = sup.policy as { circuitState?(slot: string): CircuitBreakerState };
  const breakerOf = typeof policy.circuitState === 'function' ? policy.circuitState.bind(policy) : undefined;
  for (const r of sup.replicas) {
    const s = r.state;
    const proc = r.process;
    const sample = sup.sampler.get(proc?.pid);
    const last = s.kind === 'backoff' || s.kind === 'circuit_open' || s.kind === 'failed' ? s.lastExit : undefined;
    out.push({
      agent: r.config.name,
      role: r.role,
      replica: r.slot,
      mode: 'service',
      state: s.kind,
      pid: proc?.pid ?? null,
      uptime_seconds: proc && s.kind !== 'stopping' ? secs(now - proc.startedAt) : null,
      restarts: Object.values(r.restarts).reduce((a, b) => a + b, 0),
      restarts_by_reason: { ...r.restarts },
      task: r.task ? { id: r.task.id, progress: r.task.progress, message: r.task.message, running_seconds: secs(now - r.task.assignedAt), last_progress_seconds: secs(now - r.task.lastProgressAt) } : null,
      cpu_percent: sample ? Math.round(sample.cpuPercent * 10) / 10 : null,
      rss_bytes: sample?.rssBytes ?? null,
      last_heartbeat_age_seconds: r.lastHeartbeatAt !== undefined && proc ? secs(now - r.lastHeartbeatAt) : null,
      protocol: r.speaksProtocol,
      sdk: r.sdk ?? null,
      breaker: breakerOf?.(r.slot).kind,
      restart_at: s.kind === 'backoff' ? new Date(s.restartAt).toISOString() : s.kind === 'circuit_open' ? new Date(s.retryAt).toISOString() : null,
      last_exit: last ? { at: new Date(last.at).toISOString(), code: last.code, signal: last.signal, reason: last.reason } : null,
      env_keys: Object.keys(r.config.env),
    });
  }
  for (const p of sup.perTask) {
    const runs = [...p.runs.values()];
    let cpu = 0;
    let rss = 0;
    let sampled = false;
    for (const run of runs) {
      const smp = sup.sampler.get(run.proc.pid);
      if (smp) { cpu += smp.cpuPercent; rss += smp.rssBytes; sampled = true; }
    }
    const first = runs[0];
    out.push({
      agent: p.config.name,
      role: p.role,
      replica: p.config.name,
      mode: 'per_task',
      state: p.stopping || (p.stopped && runs.length) ? 'stopping' : p.stopped ? 'stopped' : runs.length ? 'running' : 'idle',
      pid: first?.proc.pid ?? null,
      uptime_seconds: first ? secs(now - first.startedAt) : null,
      restarts: 0,
      restarts_by_reason: {},
      task: first ? { id: first.task.id, progress: null, message: first.lastMessage, running_seconds: secs(now - first.startedAt), last_progress_seconds: secs(now - (first.lastOutputAt ?? first.startedAt)) } : null,
      concurrency: { running: runs.length, max: p.config.max_concurrent, tasks: runs.map((r) => r.task.id), replicas: runs.map((r) => r.slotId) },
      ...runStatus(sup, p.config.name, now),
      cpu_percent: sampled ? Math.round(cpu * 10) / 10 : null,
      rss_bytes: sampled ? rss : null,
      last_heartbeat_age_seconds: null,
      protocol: false,
      sdk: null,
      restart_at: null,
      last_exit: null,
      env_keys: Object.keys(p.config.env),
    });
  }
  return out;
}

/** The runs in flight and the last run of a per_task agent, from the supervisor's RunBook. */
function runStatus(sup: Supervisor, agent: string, now: number): { runs: RunStatus[]; last_run: LastRunStatus | null } {
  const book = sup.runBook as Supervisor['runBook'] | undefined;
  if (!book) return { runs: [], last_run: null };
  const runs = book.running(agent).map((r) => ({
    slot: r.slot, task_id: r.taskId, attempt: r.attempt, turns: r.turns, message: r.message, age_seconds: secs(now - r.startedAt),
    tokens: r.usage ? sumTokens(Object.values(r.usage)) : null,
    cost_usd_estimated: r.costUsd ?? null,
  }));
  const l = book.last(agent);
  const last_run = l ? {
    task_id: l.task_id, slot: l.slot, attempt: l.attempt, outcome: l.outcome, cause: l.cause, error: l.error, turns: l.turns, cost_usd: l.cost_usd,
    tokens: sumTokens([l.input_tokens, l.output_tokens, l.cache_creation_tokens, l.cache_read_tokens]),
    duration_seconds: secs(l.finished_at - l.started_at), finished_at: new Date(l.finished_at).toISOString(),
  } : null;
  return { runs, last_run };
}

/**
 * Seconds since the last progress of an in_progress task: its replica's last
 * `task.progress` (service), its run's last output (per_task), else what the
 * queue recorded (`last_activity_at`, the start). Null for a task not in progress.
 */
export function lastProgressSeconds(sup: Supervisor, task: { id: string; status: string; last_activity_at: number | null; started_at: number | null }, now = Date.now()): number | null {
  if (task.status !== 'in_progress') return null;
  let at: number | undefined;
  for (const r of sup.replicas) if (r.task?.id === task.id) at = r.task.lastProgressAt;
  for (const p of sup.perTask) for (const run of p.runs.values()) if (run.task.id === task.id) at = run.lastOutputAt ?? run.startedAt;
  at ??= task.last_activity_at ?? task.started_at ?? undefined;
  return at === undefined ? null : secs(now - at);
}
