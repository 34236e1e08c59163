import type { AttemptCause, LlmUsage } from '../Task.js';
import type { Queryable } from './PgQueueReader.js';

/** The channel a submit, a release or a retry notifies (payload: the task's role). */
export const TASKS_CHANNEL = 'agentic_tasks';

export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export { inTx } from '../../store/pg/inTx.js';

/** Wakes the takers of `role` once the transaction commits (see PgTaskNotifier). */
export const notifyRole = (c: Queryable, role: string): Promise<unknown> => c.query('SELECT pg_notify($1, $2)', [TASKS_CHANNEL, role]);

/** Ends the task's running attempt (no-op when none runs). */
export const closeAttempt = (c: Queryable, id: string, at: number, cause: AttemptCause | 'completed', detail: string | null, counted: boolean, llm: LlmUsage | undefined): Promise<unknown> =>
  c.query(`UPDATE task_attempts SET ended_at = $2, cause = $3, detail = $4, counted = $5, llm = $6::jsonb
    WHERE task_id = $1 AND n = (SELECT MAX(n) FROM task_attempts WHERE task_id = $1) AND ended_at IS NULL`, [id, at, cause, detail, counted, json(llm)]);
