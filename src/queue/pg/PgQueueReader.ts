import type pg from 'pg';
import { queueStatsFrom, type AttemptRecord, type QueueStats, type RetryRecord, type Task, type TaskStatus, type TaskWithHistory } from '../Task.js';
import { roleStatsFrom, type FinishedRow, type RoleStats } from '../taskStats.js';
import type { RoleRunUsage } from '../../store/RunLedger.js';
import { leaseOf, toAttempt, toRetry, toTask, type AttemptRow, type Lease, type PgTaskRow, type RetryRow } from './pgRows.js';

/** Something that runs a query: the pool, or a client inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/** The read side of the PostgreSQL queue: the same reads as the SQLite `TaskQueue`, async, plus the leases. */
export class PgQueueReader {
  constructor(protected readonly pool: pg.Pool, protected readonly now: () => number, protected readonly historyRetention: number) {}

  async get(id: string): Promise<Task | undefined> {
    const { rows } = await this.pool.query<PgTaskRow>('SELECT * FROM tasks WHERE id = $1', [id]);
    return rows[0] ? toTask(rows[0]) : undefined;
  }

  /** Whether `role` has a pending task that is due, or an in-progress task whose lease ran out (either can be taken). */
  async hasPending(role: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM tasks WHERE role = $1 AND (
      (status = 'pending' AND (not_before IS NULL OR not_before <= $2)) OR (status = 'in_progress' AND lease_expires_at < clock_timestamp())) LIMIT 1`, [role, this.now()]);
    return (rowCount ?? 0) > 0;
  }

  /** The earliest time (epoch ms) a pending task waiting for its retry backoff becomes due; undefined when none waits. */
  async nextDueAt(): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ at: number | null }>("SELECT MIN(not_before) AS at FROM tasks WHERE status = 'pending' AND not_before > $1", [this.now()]);
    return rows[0]?.at ?? undefined;
  }

  /** Every task in progress, fleet-wide. */
  async inProgress(): Promise<Task[]> {
    const { rows } = await this.pool.query<PgTaskRow>("SELECT * FROM tasks WHERE status = 'in_progress' ORDER BY started_at");
    return rows.map(toTask);
  }

  /** Which supervisor holds which task (every lease, expired ones too), oldest first. */
  async leases(): Promise<(Lease & { expired: boolean })[]> {
    const { rows } = await this.pool.query<PgTaskRow & { expired: boolean }>("SELECT *, lease_expires_at < clock_timestamp() AS expired FROM tasks WHERE status = 'in_progress' ORDER BY started_at, seq");
    return rows.map((r) => ({ ...leaseOf(r), expired: r.expired }));
  }

  async list(filter: { status?: TaskStatus | undefined; role?: string | undefined; correlationId?: string | undefined; limit?: number | undefined } = {}): Promise<Task[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => { args.push(v); where.push(`${sql} $${args.length}`); };
    if (filter.status) add('status =', filter.status);
    if (filter.role) add('role =', filter.role);
    if (filter.correlationId) add('correlation_id =', filter.correlationId);
    args.push(Math.min(filter.limit ?? 100, 10_000));
    const { rows } = await this.pool.query<PgTaskRow>(`SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, seq DESC LIMIT $${args.length}`, args);
    return rows.map(toTask);
  }

  /** Exact queue figures, fleet-wide (the same shape as `TaskQueue.stats()`). */
  async stats(): Promise<QueueStats> {
    const pending = await this.pool.query<{ role: string; priority: number; n: number; oldest: number }>("SELECT role, priority, COUNT(*) AS n, MIN(created_at) AS oldest FROM tasks WHERE status = 'pending' GROUP BY role, priority");
    const running = await this.pool.query<{ role: string; holder: string | null; n: number }>("SELECT role, lease_holder AS holder, COUNT(*) AS n FROM tasks WHERE status = 'in_progress' GROUP BY role, lease_holder");
    return queueStatsFrom(pending.rows, running.rows);
  }

  /** How many tasks are in each status now (every status present, 0 when none). */
  async countsByStatus(): Promise<Record<TaskStatus, number>> {
    const out: Record<TaskStatus, number> = { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 };
    const { rows } = await this.pool.query<{ status: TaskStatus; n: number }>('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status');
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  /**
   * `TaskQueue.performance`, fleet-wide: the tasks that finished in [sinceMs, now) and the
   * LLM usage of every attempt that ended in it with usage recorded (`task_attempts.llm`).
   */
  async performance(sinceMs: number, now = this.now()): Promise<RoleStats[]> {
    const finished = await this.pool.query<FinishedRow>("SELECT role, status, started_at, finished_at FROM tasks WHERE finished_at >= $1 AND status IN ('completed', 'failed', 'cancelled')", [sinceMs]);
    const { rows } = await this.pool.query<{ role: string; llm: { num_turns?: number; total_cost_usd?: number; usage?: Record<string, number | undefined> } }>(
      'SELECT t.role, a.llm FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.ended_at >= $1 AND a.llm IS NOT NULL', [sinceMs]);
    const usage = new Map<string, RoleRunUsage>();
    for (const { role, llm } of rows) {
      const u = usage.get(role) ?? { role, runs: 0, cost_usd: 0, turns: 0, input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0 };
      u.runs++;
      u.cost_usd += llm.total_cost_usd ?? 0;
      u.turns += llm.num_turns ?? 0;
      u.input_tokens += llm.usage?.input_tokens ?? 0;
      u.output_tokens += llm.usage?.output_tokens ?? 0;
      u.cache_creation_tokens += llm.usage?.cache_creation_input_tokens ?? 0;
      u.cache_read_tokens += llm.usage?.cache_read_input_tokens ?? 0;
      usage.set(role, u);
    }
    return roleStatsFrom(finished.rows, [...usage.values()], sinceMs, now);
  }

  /** The task's last attempt (running or ended), if it ever started. */
  async lastAttempt(id: string): Promise<AttemptRecord | undefined> {
    const { rows } = await this.pool.query<AttemptRow>('SELECT * FROM task_attempts WHERE task_id = $1 ORDER BY n DESC LIMIT 1', [id]);
    return rows[0] ? toAttempt(rows[0]) : undefined;
  }

  async withHistory(task: Task): Promise<TaskWithHistory> {
    return (await this.withHistories([task]))[0] as TaskWithHistory;
  }

  /** `withHistory` for a list of tasks, in two queries. */
  async withHistories(tasks: readonly Task[]): Promise<TaskWithHistory[]> {
    if (!tasks.length) return [];
    const ids = tasks.map((t) => t.id);
    const attempts = await this.pool.query<AttemptRow>('SELECT * FROM task_attempts WHERE task_id = ANY($1) ORDER BY task_id, n', [ids]);
    const retries = await this.pool.query<RetryRow>('SELECT * FROM task_retries WHERE task_id = ANY($1) ORDER BY task_id, at, id', [ids]);
    const a = new Map<string, AttemptRecord[]>();
    const r = new Map<string, RetryRecord[]>();
    for (const row of attempts.rows) a.set(row.task_id, [...(a.get(row.task_id) ?? []), toAttempt(row)]);
    for (const row of retries.rows) r.set(row.task_id, [...(r.get(row.task_id) ?? []), toRetry(row)]);
    return tasks.map((t) => ({ ...t, attempt_history: a.get(t.id) ?? [], retries: r.get(t.id) ?? [] }));
  }

  /** Keeps the newest `historyRetention` finished tasks, fleet-wide; their attempts and retries go with them. */
  async pruneHistory(): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE status IN ('completed', 'failed', 'cancelled')
      ORDER BY finished_at DESC, seq DESC OFFSET $1)`, [this.historyRetention]);
    return rowCount ?? 0;
  }
}
