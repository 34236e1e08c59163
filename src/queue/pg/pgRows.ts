import type { AttemptCause, AttemptRecord, LlmUsage, RetryRecord, Task, TaskStatus } from '../Task.js';

/** A row of `tasks` as node-postgres returns it (bigint as number, jsonb parsed). */
export interface PgTaskRow {
  id: string; seq: number; role: string; title: string; prompt: string | null; payload: unknown; priority: number;
  status: TaskStatus; attempts: number; attempt: number; not_before: number | null; created_at: number; updated_at: number;
  started_at: number | null; finished_at: number | null; assigned_to: string | null; correlation_id: string; traceparent: string | null;
  progress: number | null; progress_message: string | null; last_activity_at: number | null; result: unknown; error: string | null;
  llm: LlmUsage | null; max_turns: number | null; max_cost_usd: number | null;
  lease_holder: string | null; lease_token: number | null; lease_expires_at: Date | null;
}

/** The task as the SQLite queue returns it: the same fields, nothing of the lease. */
export const toTask = (r: PgTaskRow): Task => ({
  id: r.id, role: r.role, title: r.title, prompt: r.prompt, payload: r.payload, priority: r.priority, status: r.status,
  attempts: r.attempts, attempt: r.attempt, not_before: r.not_before, created_at: r.created_at, updated_at: r.updated_at,
  started_at: r.started_at, finished_at: r.finished_at, assigned_to: r.assigned_to, correlation_id: r.correlation_id,
  traceparent: r.traceparent, progress: r.progress, progress_message: r.progress_message, last_activity_at: r.last_activity_at,
  result: r.result, error: r.error, llm: r.llm, max_turns: r.max_turns, max_cost_usd: r.max_cost_usd,
});

/**
 * A supervisor's hold on a task in progress. `token` is the fencing token: a number from
 * one database sequence, new at every take, that every write of the holder must present.
 */
export interface Lease {
  taskId: string;
  role: string;
  /** The supervisor id that holds it. */
  holder: string;
  token: number;
  /** The attempt this lease is for. */
  attempt: number;
  /** When it runs out, by the database's clock. */
  expiresAt: Date;
}

export const leaseOf = (r: PgTaskRow): Lease => ({
  taskId: r.id, role: r.role, holder: r.lease_holder ?? '', token: r.lease_token ?? 0, attempt: r.attempt, expiresAt: r.lease_expires_at ?? new Date(0),
});

/**
 * A write from a supervisor whose lease on the task is gone: it ran out and another
 * supervisor took the task over (or released it as `supervisor_lost`), or this supervisor
 * never held it. The write was not applied.
 */
export class LeaseLostError extends Error {
  readonly code = 'ERR_LEASE_LOST';
  constructor(
    readonly taskId: string,
    readonly operation: string,
    readonly supervisor: string,
    readonly token: number | undefined,
    readonly now: { status: TaskStatus; holder: string | null; attempt: number } | undefined,
  ) {
    super(`Supervisor ${supervisor} may no longer ${operation} task ${taskId}: ${token === undefined ? 'it holds no lease on it' : `its lease (token ${token}) was lost`}`
      + `${now ? `; the task is ${now.status}${now.holder ? ` under ${now.holder}` : ''} at attempt ${now.attempt}` : '; the task is gone'}. The write was refused; stop the run that held it.`);
    this.name = 'LeaseLostError';
  }
}

interface AttemptRow {
  task_id: string; n: number; agent: string | null; replica: string | null; supervisor: string | null; started_at: number; ended_at: number | null;
  cause: AttemptCause | 'completed' | null; detail: string | null; counted: boolean | null; llm: LlmUsage | null;
}

/** An attempt row as the API shows it: on PostgreSQL with the supervisor that ran it (its lease holder). */
export const toAttempt = ({ task_id: _id, ...r }: AttemptRow): AttemptRecord => r;

export type { AttemptRow };

interface RetryRow { id: number; task_id: string; at: number; cause: 'operator_retry'; detail: string; previous_status: 'failed' | 'cancelled'; attempts_before: number; after_attempt: number }

export const toRetry = ({ id: _i, task_id: _t, ...r }: RetryRow): RetryRecord => r;

export type { RetryRow };
