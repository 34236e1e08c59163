import { randomUUID } from 'node:crypto';
import type { Db } from '../store/Database.js';
import { taskStats, type RoleStats } from './taskStats.js';
import { DuplicateTaskError, QueueFullError, priorityBand, type AttemptCause, type LlmUsage, type SubmitInput, type Task, type TaskStatus } from './Task.js';

interface Row {
  id: string; role: string; title: string; prompt: string | null; payload: string | null; priority: number;
  status: TaskStatus; attempts: number; created_at: number; updated_at: number; started_at: number | null;
  finished_at: number | null; assigned_to: string | null; correlation_id: string; traceparent: string | null;
  progress: number | null; progress_message: string | null; last_activity_at: number | null;
  result: string | null; error: string | null; llm: string | null;
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));
const toTask = (r: Row): Task => ({ ...r, payload: parse(r.payload), result: parse(r.result), llm: parse(r.llm) as LlmUsage | null });

/** What happened to a task that failed or whose agent died. */
export type FailOutcome = 'retry' | 'dead_lettered';

export interface QueueOptions {
  maxDepth: number;
  maxAttempts: number;
  historyRetention: number;
  now?: () => number;
}

/**
 * The durable task queue (SQLite, WAL, synchronous=FULL). Every state change is
 * one transaction, so a SIGKILL of the supervisor loses nothing acknowledged.
 * Tasks in progress when a supervisor died are re-queued by `recoverInProgress()`.
 */
export class TaskQueue {
  private readonly now: () => number;
  private readonly stmts;

  constructor(private readonly db: Db, private readonly opts: QueueOptions) {
    this.now = opts.now ?? Date.now;
    this.stmts = {
      insert: db.prepare(`INSERT INTO tasks (id, role, title, prompt, payload, priority, status, attempts, created_at, updated_at, correlation_id, traceparent)
        VALUES (@id, @role, @title, @prompt, @payload, @priority, 'pending', 0, @now, @now, @correlation_id, @traceparent)`),
      get: db.prepare('SELECT * FROM tasks WHERE id = ?'),
      pendingCount: db.prepare("SELECT COUNT(*) AS n FROM tasks WHERE status = 'pending'"),
      next: db.prepare("SELECT * FROM tasks WHERE status = 'pending' AND role = ? ORDER BY priority DESC, created_at ASC, rowid ASC LIMIT 1"),
      anyPending: db.prepare("SELECT 1 FROM tasks WHERE status = 'pending' AND role = ? LIMIT 1"),
      assign: db.prepare("UPDATE tasks SET status = 'in_progress', assigned_to = ?, attempts = attempts + 1, started_at = ?, updated_at = ?, last_activity_at = ?, progress = NULL, progress_message = NULL WHERE id = ? AND status = 'pending'"),
      progress: db.prepare("UPDATE tasks SET progress = COALESCE(?, progress), progress_message = COALESCE(?, progress_message), last_activity_at = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      complete: db.prepare("UPDATE tasks SET status = 'completed', result = ?, llm = COALESCE(?, llm), finished_at = ?, updated_at = ?, progress = 1 WHERE id = ? AND status = 'in_progress'"),
      requeue: db.prepare("UPDATE tasks SET status = 'pending', assigned_to = NULL, error = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      release: db.prepare("UPDATE tasks SET status = 'pending', assigned_to = NULL, attempts = MAX(attempts - 1, 0), error = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      deadLetter: db.prepare("UPDATE tasks SET status = 'failed', error = ?, llm = COALESCE(?, llm), finished_at = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      cancel: db.prepare("UPDATE tasks SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ? AND status IN ('pending', 'in_progress')"),
      inProgress: db.prepare("SELECT * FROM tasks WHERE status = 'in_progress'"),
      depth: db.prepare("SELECT role, priority, COUNT(*) AS n, MIN(created_at) AS oldest FROM tasks WHERE status = 'pending' GROUP BY role, priority"),
      running: db.prepare("SELECT role, COUNT(*) AS n FROM tasks WHERE status = 'in_progress' GROUP BY role"),
      prune: db.prepare("DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE status IN ('completed','failed','cancelled') ORDER BY finished_at DESC LIMIT -1 OFFSET ?)"),
    };
  }

  /**
   * Adds a pending task.
   * @throws QueueFullError when `maxDepth` tasks are already pending.
   * @throws DuplicateTaskError when `input.id` exists.
   */
  submit(input: SubmitInput): Task {
    const id = input.id ?? `task_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const now = this.now();
    const tx = this.db.transaction(() => {
      const { n } = this.stmts.pendingCount.get() as { n: number };
      if (n >= this.opts.maxDepth) throw new QueueFullError(n, this.opts.maxDepth);
      if (this.stmts.get.get(id)) throw new DuplicateTaskError(id);
      this.stmts.insert.run({
        id, role: input.role, title: input.title, prompt: input.prompt ?? null,
        payload: input.payload === undefined ? null : JSON.stringify(input.payload),
        priority: input.priority ?? 5, now, correlation_id: input.correlation_id, traceparent: input.traceparent ?? null,
      });
    });
    tx.immediate();
    return this.get(id) as Task;
  }

  get(id: string): Task | undefined {
    const r = this.stmts.get.get(id) as Row | undefined;
    return r ? toTask(r) : undefined;
  }

  /**
   * Whether `role` has a pending task: one read of the index, no transaction (a
   * `take()` that finds nothing still costs a write-locked transaction).
   */
  hasPending(role: string): boolean {
    return this.stmts.anyPending.get(role) !== undefined;
  }

  /** Leases the highest-priority, oldest pending task of `role` to `agentId`. */
  take(role: string, agentId: string): Task | undefined {
    const tx = this.db.transaction(() => {
      const r = this.stmts.next.get(role) as Row | undefined;
      if (!r) return undefined;
      const now = this.now();
      this.stmts.assign.run(agentId, now, now, now, r.id);
      return r.id;
    });
    const id = tx.immediate();
    return id ? this.get(id) : undefined;
  }

  progress(id: string, fraction: number | undefined, message: string | undefined): void {
    const now = this.now();
    this.stmts.progress.run(fraction ?? null, message ?? null, now, now, id);
  }

  complete(id: string, result: unknown, llm?: LlmUsage): Task | undefined {
    const now = this.now();
    const changed = this.stmts.complete.run(result === undefined ? null : JSON.stringify(result), llm ? JSON.stringify(llm) : null, now, now, id).changes;
    return changed ? this.get(id) : undefined;
  }

  /**
   * Records a failed attempt: re-queued while attempts remain and the failure is
   * retryable, else dead-lettered (status `failed`, kept with its error).
   */
  fail(id: string, error: string, retryable: boolean, llm?: LlmUsage, _cause: AttemptCause = 'agent_failed'): FailOutcome | undefined {
    const now = this.now();
    const tx = this.db.transaction((): FailOutcome | undefined => {
      const r = this.stmts.get.get(id) as Row | undefined;
      if (!r || r.status !== 'in_progress') return undefined;
      if (retryable && r.attempts < this.opts.maxAttempts) {
        this.stmts.requeue.run(error, now, id);
        return 'retry';
      }
      const why = retryable ? `${error} (gave up after ${r.attempts} attempts)` : error;
      this.stmts.deadLetter.run(why, llm ? JSON.stringify(llm) : null, now, now, id);
      return 'dead_lettered';
    });
    return tx.immediate();
  }

  /**
   * Puts a task in progress back to pending without using up an attempt: the
   * attempt ended for a reason that is not the agent's failure (`cause` is not
   * in `COUNTED_CAUSES`). Returns false when the task was not in progress.
   */
  release(id: string, cause: Exclude<AttemptCause, 'agent_failed' | 'crashed' | 'timeout' | 'stalled' | 'spawn_failed'>, detail: string): boolean {
    return this.stmts.release.run(`${cause}: ${detail}`, this.now(), id).changes > 0;
  }

  cancel(id: string): boolean {
    const now = this.now();
    return this.stmts.cancel.run(now, now, id).changes > 0;
  }

  /** Tasks that were in progress (e.g. when a previous supervisor was killed). */
  inProgress(): Task[] {
    return (this.stmts.inProgress.all() as Row[]).map(toTask);
  }

  list(filter: { status?: TaskStatus | undefined; role?: string | undefined; correlationId?: string | undefined; limit?: number | undefined } = {}): Task[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) { where.push('status = ?'); args.push(filter.status); }
    if (filter.role) { where.push('role = ?'); args.push(filter.role); }
    if (filter.correlationId) { where.push('correlation_id = ?'); args.push(filter.correlationId); }
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, Math.min(filter.limit ?? 100, 10_000)) as Row[]).map(toTask);
  }

  /** Exact queue figures for metrics and `status`. */
  stats(): { depth: Map<string, Map<'high' | 'normal' | 'low', number>>; oldestPending: Map<string, number>; inProgress: Map<string, number>; totalPending: number } {
    const depth = new Map<string, Map<'high' | 'normal' | 'low', number>>();
    const oldestPending = new Map<string, number>();
    let totalPending = 0;
    for (const r of this.stmts.depth.all() as { role: string; priority: number; n: number; oldest: number }[]) {
      const bands = depth.get(r.role) ?? new Map();
      const band = priorityBand(r.priority);
      bands.set(band, (bands.get(band) ?? 0) + r.n);
      depth.set(r.role, bands);
      oldestPending.set(r.role, Math.min(oldestPending.get(r.role) ?? Infinity, r.oldest));
      totalPending += r.n;
    }
    const inProgress = new Map<string, number>();
    for (const r of this.stmts.running.all() as { role: string; n: number }[]) inProgress.set(r.role, r.n);
    return { depth, oldestPending, inProgress, totalPending };
  }

  /** Completion-time percentiles, throughput, error rate and LLM usage by role from `sinceMs` to `now`. */
  performance(sinceMs: number, now = this.now()): RoleStats[] {
    return taskStats(this.db, sinceMs, now);
  }

  /** Keeps the newest `historyRetention` finished tasks. */
  pruneHistory(): number {
    return this.stmts.prune.run(this.opts.historyRetention).changes;
  }
}
