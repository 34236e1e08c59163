import type { Db } from '../store/Database.js';
import type { AttemptCause, AttemptRecord, LlmUsage, RetryRecord } from './Task.js';

interface AttemptRow {
  task_id: string; n: number; agent: string | null; replica: string | null; started_at: number; ended_at: number | null;
  cause: AttemptCause | 'completed' | null; detail: string | null; counted: number | null; llm: string | null;
}

interface RetryRow { task_id: string; at: number; cause: 'operator_retry'; detail: string; previous_status: 'failed' | 'cancelled'; attempts_before: number; after_attempt: number }

const toAttempt = ({ task_id: _id, ...r }: AttemptRow): AttemptRecord => ({
  ...r,
  counted: r.counted === null ? null : r.counted === 1,
  llm: r.llm === null ? null : (JSON.parse(r.llm) as LlmUsage),
});

const toRetry = ({ task_id: _id, ...r }: RetryRow): RetryRecord => r;

/**
 * The durable history of every attempt of every task (`task_attempts`) and of the
 * operator's retries (`task_retries`). Rows go when their task is pruned (ON DELETE
 * CASCADE). The queue calls it inside its own transactions, so a task's status and
 * its history never disagree.
 */
export class AttemptLog {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      open: db.prepare('INSERT INTO task_attempts (task_id, n, agent, replica, started_at) VALUES (?, ?, ?, ?, ?)'),
      close: db.prepare('UPDATE task_attempts SET ended_at = ?, cause = ?, detail = ?, counted = ?, llm = ? WHERE task_id = ? AND n = (SELECT MAX(n) FROM task_attempts WHERE task_id = ?) AND ended_at IS NULL'),
      replica: db.prepare('UPDATE task_attempts SET replica = ? WHERE task_id = ? AND n = (SELECT MAX(n) FROM task_attempts WHERE task_id = ?) AND ended_at IS NULL'),
      history: db.prepare('SELECT * FROM task_attempts WHERE task_id = ? ORDER BY n'),
      historyOfMany: db.prepare('SELECT * FROM task_attempts WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, n'),
      retriesOfMany: db.prepare('SELECT * FROM task_retries WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, at, rowid'),
      last: db.prepare('SELECT * FROM task_attempts WHERE task_id = ? ORDER BY n DESC LIMIT 1'),
      retry: db.prepare('INSERT INTO task_retries (task_id, at, cause, detail, previous_status, attempts_before, after_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      retries: db.prepare('SELECT * FROM task_retries WHERE task_id = ? ORDER BY at, rowid'),
    };
  }

  /** Records the start of attempt `n` of a task. */
  open(taskId: string, n: number, agent: string | null, replica: string | null, at: number): void {
    this.stmts.open.run(taskId, n, agent, replica, at);
  }

  /** Ends the task's running attempt (no-op when none runs, e.g. a task from before this table). */
  close(taskId: string, at: number, cause: AttemptCause | 'completed', detail: string | null, counted: boolean, llm: LlmUsage | undefined): void {
    this.stmts.close.run(at, cause, detail, counted ? 1 : 0, llm ? JSON.stringify(llm) : null, taskId, taskId);
  }

  /** Sets the replica of the running attempt (a per_task run's slot is known only once it is spawned). */
  setReplica(taskId: string, replica: string): void {
    this.stmts.replica.run(replica, taskId, taskId);
  }

  history(taskId: string): AttemptRecord[] {
    return (this.stmts.history.all(taskId) as AttemptRow[]).map(toAttempt);
  }

  /** The attempts and retries of many tasks in two queries (for lists), by task id; tasks without any are absent. */
  historyOfMany(taskIds: readonly string[]): Map<string, { attempts: AttemptRecord[]; retries: RetryRecord[] }> {
    const out = new Map<string, { attempts: AttemptRecord[]; retries: RetryRecord[] }>();
    const of = (id: string) => {
      let h = out.get(id);
      if (!h) out.set(id, (h = { attempts: [], retries: [] }));
      return h;
    };
    const ids = JSON.stringify(taskIds);
    for (const r of this.stmts.historyOfMany.all(ids) as AttemptRow[]) of(r.task_id).attempts.push(toAttempt(r));
    for (const r of this.stmts.retriesOfMany.all(ids) as RetryRow[]) of(r.task_id).retries.push(toRetry(r));
    return out;
  }

  last(taskId: string): AttemptRecord | undefined {
    const r = this.stmts.last.get(taskId) as AttemptRow | undefined;
    return r ? toAttempt(r) : undefined;
  }

  recordRetry(taskId: string, r: RetryRecord): void {
    this.stmts.retry.run(taskId, r.at, r.cause, r.detail, r.previous_status, r.attempts_before, r.after_attempt);
  }

  retries(taskId: string): RetryRecord[] {
    return (this.stmts.retries.all(taskId) as RetryRow[]).map(toRetry);
  }
}
