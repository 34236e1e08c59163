/** Task status, as in the seed: pending → in_progress → completed | failed | cancelled. */
export type TaskStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface LlmUsage {
  num_turns?: number | undefined;
  duration_ms?: number | undefined;
  total_cost_usd?: number | undefined;
  usage?: Record<string, number | undefined> | undefined;
  /** The run printed no result: its cost is estimated from the tokens it had used (at `llm.pricing`). */
  estimated?: boolean | undefined;
}

export interface Task {
  id: string;
  role: string;
  title: string;
  prompt: string | null;
  payload: unknown;
  /** 1..10, higher runs first. */
  priority: number;
  status: TaskStatus;
  /**
   * Attempts used: those that ended for a counted cause (`COUNTED_CAUSES`, or
   * completed) plus the one running. Compared with `queue.max_attempts`.
   */
  attempts: number;
  /**
   * Number of the current or last attempt, 1-based, counting every attempt (also
   * those given back by a stop, a restart or a lost supervisor); 0 before the first.
   * It is the `attempt` an agent gets in `task.assign`: above 1, the task may have
   * been delivered before (delivery is at least once).
   */
  attempt: number;
  /** A re-queued task is not dispatched before this time (epoch ms, retry backoff); null: at once. */
  not_before: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  assigned_to: string | null;
  /** The trace id of the task's trace: ties metrics exemplars, spans and logs together. */
  correlation_id: string;
  traceparent: string | null;
  progress: number | null;
  progress_message: string | null;
  last_activity_at: number | null;
  result: unknown;
  error: string | null;
  llm: LlmUsage | null;
  /** This task's own limit on a run's assistant turns; null: its agent's `max_turns` applies. */
  max_turns: number | null;
  /** This task's own limit on a run's cost, USD; null: its agent's `max_cost_usd` applies. */
  max_cost_usd: number | null;
}

/** Limits a task may carry for its runs, overriding its agent's (see `createRunGuard`). */
export interface TaskLimits {
  max_turns?: number | undefined;
  max_cost_usd?: number | undefined;
}

export interface SubmitInput extends TaskLimits {
  role: string;
  title: string;
  prompt?: string | undefined;
  payload?: unknown;
  priority?: number | undefined;
  id?: string | undefined;
  correlation_id: string;
  traceparent?: string | undefined;
}

/**
 * Why an attempt of a task ended without completing it. Only agent failures
 * (`COUNTED_CAUSES`) use up one of the task's attempts; an operator restart, a
 * graceful stop, a lost supervisor or a cancel give the attempt back.
 */
export type AttemptCause =
  | 'agent_failed' // the agent reported a failure, or a per_task run exited non-zero / with an error result
  | 'crashed' // the agent process died while it held the task
  | 'timeout' // the task ran past task_timeout and was killed
  | 'stalled' // the run printed nothing for the stale-task threshold and was killed
  | 'budget_exceeded' // the run went over its max_turns or max_cost_usd and was killed
  | 'tool_loop' // the run repeated one tool call with the same answer (llm_progress) and was killed
  | 'spawn_failed' // the per_task process could not be started (E2BIG, ENOENT, ...)
  | 'unhealthy' // a health verdict restarted the agent while it held the task
  | 'operator_restart' // `background restart` / an alert restart ended the run
  | 'supervisor_stopped' // a graceful `background stop`
  | 'supervisor_lost' // found in progress after the supervisor was killed
  | 'rate_limited' // the API rate-limited (or was overloaded for) the run: its role backs off, the attempt is given back
  | 'cancelled'; // cancelled by the operator

export const COUNTED_CAUSES: ReadonlySet<AttemptCause> = new Set<AttemptCause>(['agent_failed', 'crashed', 'timeout', 'stalled', 'budget_exceeded', 'tool_loop', 'spawn_failed', 'unhealthy']);

/** A cause that gives the attempt back (not in `COUNTED_CAUSES`). */
export type ReleaseCause = Exclude<AttemptCause, 'agent_failed' | 'crashed' | 'timeout' | 'stalled' | 'budget_exceeded' | 'tool_loop' | 'spawn_failed' | 'unhealthy'>;

/**
 * One attempt of a task, as `tasks --json` and `GET /api/v1/tasks/:id` show it
 * (`attempt_history`). Times are epoch ms.
 */
export interface AttemptRecord {
  /** 1-based, in order; the `attempt` the agent was given. */
  n: number;
  /** The agent (name) that ran it. */
  agent: string | null;
  /** The replica ("0", "1", …): a service replica's index or a per_task run's slot; null when unknown. */
  replica: string | null;
  started_at: number;
  /** null while it runs. */
  ended_at: number | null;
  /** How it ended: `completed` or an `AttemptCause`; null while it runs. */
  cause: AttemptCause | 'completed' | null;
  /** The human reason (the error, the exit, "recovered from stored output", …). */
  detail: string | null;
  /** Whether it used up one of the task's attempts (completed and `COUNTED_CAUSES`); null while it runs. */
  counted: boolean | null;
  /** This attempt's own LLM usage (a per_task run's `result` event), if any. */
  llm: LlmUsage | null;
  /** PostgreSQL only: the supervisor that ran it (`<hostname>:<state_dir>`, its lease holder). Absent on SQLite, where it is always this supervisor. */
  supervisor?: string | null;
}

/** An operator's `background retry` of a failed or cancelled task (`retries` in the task's JSON). */
export interface RetryRecord {
  at: number;
  cause: 'operator_retry';
  /** The reason given with the retry, or a default text. */
  detail: string;
  previous_status: 'failed' | 'cancelled';
  /** `attempts` before the reset to 0. */
  attempts_before: number;
  /** The number of the last attempt before the retry (0 when it never ran). */
  after_attempt: number;
}

/** A task with its history: the shape of `tasks --json` and of the task API. */
export type TaskWithHistory = Task & { attempt_history: AttemptRecord[]; retries: RetryRecord[] };

export const priorityBand = (p: number): 'high' | 'normal' | 'low' => (p >= 8 ? 'high' : p >= 4 ? 'normal' : 'low');

/** Exact queue figures for metrics and `status`, the same on every backend. */
export interface QueueStats {
  depth: Map<string, Map<'high' | 'normal' | 'low', number>>; oldestPending: Map<string, number>; inProgress: Map<string, number>; totalPending: number;
  /** PostgreSQL only: the tasks in progress by role and by the supervisor holding their lease (`<hostname>:<state_dir>`). */
  heldBy?: Map<string, Map<string, number>> | undefined;
}

/** QueueStats from the pending tasks counted by role and priority (with the oldest's creation) and the running ones by role. */
export function queueStatsFrom(pending: readonly { role: string; priority: number; n: number; oldest: number }[], running: readonly { role: string; n: number; holder?: string | null }[]): QueueStats {
  const depth = new Map<string, Map<'high' | 'normal' | 'low', number>>();
  const oldestPending = new Map<string, number>();
  let totalPending = 0;
  for (const r of pending) {
    const bands = depth.get(r.role) ?? new Map<'high' | 'normal' | 'low', number>();
    const band = priorityBand(r.priority);
    bands.set(band, (bands.get(band) ?? 0) + r.n);
    depth.set(r.role, bands);
    oldestPending.set(r.role, Math.min(oldestPending.get(r.role) ?? Infinity, r.oldest));
    totalPending += r.n;
  }
  const inProgress = new Map<string, number>();
  for (const r of running) inProgress.set(r.role, (inProgress.get(r.role) ?? 0) + r.n);
  const stats: QueueStats = { depth, oldestPending, inProgress, totalPending };
  if (running.some((r) => r.holder !== undefined)) {
    stats.heldBy = new Map();
    for (const r of running) {
      const bySup = stats.heldBy.get(r.role) ?? new Map<string, number>();
      const who = r.holder ?? '';
      bySup.set(who, (bySup.get(who) ?? 0) + r.n);
      stats.heldBy.set(r.role, bySup);
    }
  }
  return stats;
}

export class QueueFullError extends Error {
  readonly code = 'ERR_QUEUE_FULL';
  constructor(readonly depth: number, readonly max: number) {
    super(`The task queue is full (${depth} pending, max_depth ${max}). Retry later, add capacity, or raise background.queue.max_depth.`);
    this.name = 'QueueFullError';
  }
}

export class DuplicateTaskError extends Error {
  readonly code = 'ERR_DUPLICATE_TASK';
  constructor(readonly id: string) {
    super(`A task with id ${id} already exists. Use another --id, or omit it to get a generated one.`);
    this.name = 'DuplicateTaskError';
  }
}

export class UnknownTaskError extends Error {
  readonly code = 'ERR_UNKNOWN_TASK';
  constructor(readonly id: string) {
    super(`No task ${id} in the queue. List tasks with: agentic-scrum-setup background tasks`);
    this.name = 'UnknownTaskError';
  }
}

/** The task exists but is in a status where the operation does not apply. */
export class TaskStateError extends Error {
  readonly code = 'ERR_TASK_STATE';
  constructor(readonly id: string, readonly status: TaskStatus, readonly operation: 'retry' | 'cancel' | 'reprioritise', readonly allowed: readonly TaskStatus[]) {
    super(`Task ${id} is ${status}: only ${allowed.join(' or ')} tasks can be ${{ retry: 'retried', cancel: 'cancelled', reprioritise: 're-prioritised' }[operation]}.`);
    this.name = 'TaskStateError';
  }
}
