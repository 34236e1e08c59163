import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ExponentialBackoff, type ExponentialBackoffOptions } from '../recovery/ExponentialBackoff.js';
import type { Db } from '../store/Database.js';
import { DiskFullError } from '../store/DiskFullError.js';
import { AttemptLog } from './AttemptLog.js';
import { DeferredWrites } from './DeferredWrites.js';
import { ProgressBatch, type ProgressEntry } from './ProgressBatch.js';
import { TaskPriority } from './TaskPriority.js';
import { taskStats, type RoleStats } from './taskStats.js';
import {
  COUNTED_CAUSES, DuplicateTaskError, QueueFullError, TaskStateError, UnknownTaskError, queueStatsFrom, type QueueStats,
  type AttemptCause, type AttemptRecord, type LlmUsage, type ReleaseCause, type SubmitInput, type Task, type TaskStatus, type TaskWithHistory,
} from './Task.js';

interface Row {
  id: string; role: string; title: string; prompt: string | null; payload: string | null; priority: number;
  status: TaskStatus; attempts: number; attempt: number; not_before: number | null; created_at: number; updated_at: number; started_at: number | null;
  finished_at: number | null; assigned_to: string | null; correlation_id: string; traceparent: string | null;
  progress: number | null; progress_message: string | null; last_activity_at: number | null;
  result: string | null; error: string | null; llm: string | null; max_turns: number | null; max_cost_usd: number | null;
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));
const toTask = (r: Row): Task => ({ ...r, payload: parse(r.payload), result: parse(r.result), llm: parse(r.llm) as LlmUsage | null });

/** What happened to a task that failed or whose agent died. */
export type FailOutcome = 'retry' | 'dead_lettered';

export interface QueueOptions {
  maxDepth: number;
  maxAttempts: number;
  historyRetention: number;
  /**
   * How long a task re-queued after a counted failure waits before it is dispatched
   * again: attempt n's failure waits `baseDelayMs × multiplier^(n−1)` ± jitter, at most
   * `maxDelayMs`. Undefined: no wait (the task is due at once).
   */
  retryBackoff?: Partial<ExponentialBackoffOptions> | undefined;
  now?: () => number;
  /** Told of every write the disk refused (the call then throws it, or keeps the write for {@link TaskQueue.flushDeferred}). */
  onDiskFull?: ((err: DiskFullError) => void) | undefined;
}

/**
 * The durable task queue (SQLite, WAL, synchronous=NORMAL: see docs/recovery.md,
 * "What survives what"). Every state change is one transaction, committed before
 * the call returns, so a crash or SIGKILL of the supervisor loses nothing
 * acknowledged. Tasks in progress when a supervisor died are re-queued by
 * `recoverInProgress()`. Statements and transaction functions are prepared once;
 * writes return the row they wrote (`RETURNING`) instead of reading it again.
 * Progress reports are batched: one transaction per event-loop turn
 * ({@link ProgressBatch}), flushed before any read or state change.
 *
 * A full disk: `submit`, `take` and `cancel` throw {@link DiskFullError} (nothing
 * is changed; the API answers 507). An outcome (`complete`, `fail`, `release`) is
 * never lost to it: it is kept in memory, one per task, and written by
 * {@link flushDeferred} once the disk takes writes; meanwhile the task reads as
 * in progress. Progress and history pruning are skipped.
 */
export class TaskQueue {
  private readonly now: () => number;
  private readonly stmts;
  private readonly tx;
  private readonly deferred = new DeferredWrites();
  private readonly progressBatch: ProgressBatch;
  /** Every attempt of every task, and the operator's retries. */
  readonly attemptLog: AttemptLog;
  private readonly priorities: TaskPriority;

  constructor(private readonly db: Db, private readonly opts: QueueOptions) {
    this.now = opts.now ?? Date.now;
    this.attemptLog = new AttemptLog(db);
    this.priorities = new TaskPriority(db);
    const due = "status = 'pending' AND role = ? AND (not_before IS NULL OR not_before <= ?)";
    this.stmts = {
      insert: db.prepare(`INSERT INTO tasks (id, role, title, prompt, payload, priority, status, attempts, created_at, updated_at, correlation_id, traceparent, max_turns, max_cost_usd)
        VALUES (@id, @role, @title, @prompt, @payload, @priority, 'pending', 0, @now, @now, @correlation_id, @traceparent, @max_turns, @max_cost_usd) RETURNING *`),
      get: db.prepare('SELECT * FROM tasks WHERE id = ?'),
      pendingCount: db.prepare("SELECT COUNT(*) AS n FROM tasks WHERE status = 'pending'"),
      anyPending: db.prepare(`SELECT 1 FROM tasks WHERE ${due} LIMIT 1`),
      // tasks_waiting (migration 4) holds only the tasks waiting for their backoff: one seek, not a scan of every pending task.
      nextDue: db.prepare("SELECT MIN(not_before) AS at FROM tasks INDEXED BY tasks_waiting WHERE not_before > ? AND status = 'pending'"),
      // The dispatch query (served by tasks_pending: status, role, priority DESC, created_at, rowid) and the lease in one statement.
      take: db.prepare(`UPDATE tasks SET status = 'in_progress', assigned_to = ?, attempts = attempts + 1, attempt = attempt + 1, not_before = NULL, started_at = ?, updated_at = ?, last_activity_at = ?, progress = NULL, progress_message = NULL
        WHERE id = (SELECT id FROM tasks WHERE ${due} ORDER BY priority DESC, created_at ASC, rowid ASC LIMIT 1) AND status = 'pending' RETURNING *`),
      progress: db.prepare("UPDATE tasks SET progress = COALESCE(?, progress), progress_message = COALESCE(?, progress_message), last_activity_at = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      complete: db.prepare("UPDATE tasks SET status = 'completed', result = ?, llm = COALESCE(?, llm), finished_at = ?, updated_at = ?, progress = 1 WHERE id = ? AND status = 'in_progress' RETURNING *"),
      requeue: db.prepare("UPDATE tasks SET status = 'pending', assigned_to = NULL, error = ?, not_before = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      release: db.prepare("UPDATE tasks SET status = 'pending', assigned_to = NULL, attempts = MAX(attempts - 1, 0), not_before = NULL, error = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      deadLetter: db.prepare("UPDATE tasks SET status = 'failed', error = ?, llm = COALESCE(?, llm), finished_at = ?, updated_at = ? WHERE id = ? AND status = 'in_progress'"),
      cancel: db.prepare("UPDATE tasks SET status = 'cancelled', attempts = CASE status WHEN 'in_progress' THEN MAX(attempts - 1, 0) ELSE attempts END, not_before = NULL, finished_at = ?, updated_at = ? WHERE id = ? AND status IN ('pending', 'in_progress')"),
      retry: db.prepare("UPDATE tasks SET status = 'pending', attempts = 0, not_before = NULL, assigned_to = NULL, started_at = NULL, finished_at = NULL, result = NULL, error = NULL, llm = NULL, progress = NULL, progress_message = NULL, updated_at = ? WHERE id = ? AND status IN ('failed', 'cancelled') RETURNING *"),
      inProgress: db.prepare("SELECT * FROM tasks WHERE status = 'in_progress'"),
      depth: db.prepare("SELECT role, priority, COUNT(*) AS n, MIN(created_at) AS oldest FROM tasks WHERE status = 'pending' GROUP BY role, priority"),
      running: db.prepare("SELECT role, COUNT(*) AS n FROM tasks WHERE status = 'in_progress' GROUP BY role"),
      byStatus: db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status'),
      prune: db.prepare("DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE status IN ('completed','failed','cancelled') ORDER BY finished_at DESC LIMIT -1 OFFSET ?)"),
    };
    const s = this.stmts;
    /** The waiting progress reports, written inside the caller's transaction (no commit of their own). */
    const writeProgress = () => {
      if (!this.progressBatch.size) return;
      for (const [id, e] of this.progressBatch.drain()) s.progress.run(e.fraction, e.message, e.at, e.at, id);
    };
    // Transaction functions, made once (each call of db.transaction() builds a new wrapper).
    this.tx = {
      submit: db.transaction((row: Record<string, unknown>): Row => {
        const { n } = s.pendingCount.get() as { n: number };
        if (n >= this.opts.maxDepth) throw new QueueFullError(n, this.opts.maxDepth);
        return s.insert.get(row) as Row; // a duplicate id fails the primary key: see submit()
      }),
      take: db.transaction((role: string, agentId: string, agent: string, replica: string | null): Row | undefined => {
        const now = this.now();
        const r = s.take.get(agentId, now, now, now, role, now) as Row | undefined;
        if (r) this.attemptLog.open(r.id, r.attempt, agent, replica, now);
        return r;
      }),
      complete: db.transaction((id: string, result: string | null, llm: LlmUsage | undefined, detail: string | null, now: number): Row | undefined => {
        writeProgress();
        const r = s.complete.get(result, llm ? JSON.stringify(llm) : null, now, now, id) as Row | undefined;
        if (r) this.attemptLog.close(id, now, 'completed', detail, true, llm);
        return r;
      }),
      fail: db.transaction((id: string, error: string, retryable: boolean, llm: LlmUsage | undefined, cause: AttemptCause, now: number): FailOutcome | undefined => {
        writeProgress();
        const r = s.get.get(id) as Row | undefined;
        if (!r || r.status !== 'in_progress') return undefined;
        this.attemptLog.close(id, now, cause, error, true, llm);
        if (retryable && r.attempts < this.opts.maxAttempts) {
          s.requeue.run(error, now + this.retryDelay(r.attempts), now, id);
          return 'retry';
        }
        const why = retryable ? `${error} (gave up after ${r.attempts} attempts)` : error;
        s.deadLetter.run(why, llm ? JSON.stringify(llm) : null, now, now, id);
        return 'dead_lettered';
      }),
      release: db.transaction((id: string, cause: ReleaseCause, detail: string, llm: LlmUsage | undefined, now: number): boolean => {
        writeProgress();
        const changed = s.release.run(`${cause}: ${detail}`, now, id).changes > 0;
        if (changed) this.attemptLog.close(id, now, cause, detail, false, llm);
        return changed;
      }),
      cancel: db.transaction((id: string, now: number): boolean => {
        writeProgress();
        const wasRunning = (s.get.get(id) as Row | undefined)?.status === 'in_progress';
        const changed = s.cancel.run(now, now, id).changes > 0;
        if (changed && wasRunning) this.attemptLog.close(id, now, 'cancelled', 'cancelled by the operator', false, undefined);
        return changed;
      }),
      retry: db.transaction((id: string, detail: string, now: number): Row => {
        const r = s.get.get(id) as Row | undefined;
        if (!r) throw new UnknownTaskError(id);
        if (r.status !== 'failed' && r.status !== 'cancelled') throw new TaskStateError(id, r.status, 'retry', ['failed', 'cancelled']);
        this.attemptLog.recordRetry(id, { at: now, cause: 'operator_retry', detail, previous_status: r.status, attempts_before: r.attempts, after_attempt: r.attempt });
        return s.retry.get(now, id) as Row;
      }),
      progress: db.transaction((entries: ReadonlyMap<string, ProgressEntry>): void => {
        for (const [id, e] of entries) s.progress.run(e.fraction, e.message, e.at, e.at, id);
      }),
    };
    this.progressBatch = new ProgressBatch((entries) => {
      if (!this.db.open) return; // reports that came after the supervisor closed the store
      try {
        this.tx.progress.immediate(entries);
      } catch (err) {
        if (!this.refused(err, `record progress of ${entries.size} task(s)`)) throw err;
      }
    });
  }

  /**
   * Adds a pending task.
   * @throws QueueFullError when `maxDepth` tasks are already pending.
   * @throws DuplicateTaskError when `input.id` exists.
   */
  submit(input: SubmitInput): Task {
    const id = input.id ?? `task_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    try {
      return toTask(this.tx.submit.immediate({
        id, role: input.role, title: input.title, prompt: input.prompt ?? null,
        payload: input.payload === undefined ? null : JSON.stringify(input.payload),
        priority: input.priority ?? 5, now: this.now(), correlation_id: input.correlation_id, traceparent: input.traceparent ?? null,
        max_turns: input.max_turns ?? null, max_cost_usd: input.max_cost_usd ?? null,
      }));
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new DuplicateTaskError(id);
      throw this.refused(err, 'store the task') ?? err;
    }
  }

  get(id: string): Task | undefined {
    this.settleProgress();
    const r = this.stmts.get.get(id) as Row | undefined;
    return r ? toTask(r) : undefined;
  }

  /**
   * Whether `role` has a pending task that is due (its retry backoff passed): one read
   * of the index, no transaction (a `take()` that finds nothing still costs a
   * write-locked transaction).
   */
  hasPending(role: string): boolean {
    return this.stmts.anyPending.get(role, this.now()) !== undefined;
  }

  /** The earliest time (epoch ms) a pending task waiting for its retry backoff becomes due; undefined when none waits. */
  nextDueAt(): number | undefined {
    const { at } = this.stmts.nextDue.get(this.now()) as { at: number | null };
    return at ?? undefined;
  }

  /**
   * Leases the highest-priority, oldest due pending task of `role` to `agentId`, and
   * opens its next attempt (`who`: the agent name and replica recorded with it).
   * @throws DiskFullError when the disk refuses the write (the task stays pending).
   */
  take(role: string, agentId: string, who: { agent?: string | undefined; replica?: string | undefined } = {}): Task | undefined {
    let r: Row | undefined;
    try {
      r = this.tx.take.immediate(role, agentId, who.agent ?? agentId, who.replica ?? null);
    } catch (err) {
      throw this.refused(err, `lease a ${role} task`) ?? err;
    }
    return r ? toTask(r) : undefined;
  }

  /**
   * Records a task's progress (kept when `fraction` or `message` is undefined) and
   * activity. Written with the other reports of this event-loop turn on the next
   * turn, in one transaction (skipped while the disk is full).
   */
  progress(id: string, fraction: number | undefined, message: string | undefined): void {
    this.progressBatch.add(id, fraction, message, this.now());
  }

  /** Writes the progress reports still waiting for the next turn (before a read or a state change, and at stop). */
  flushProgress(): number {
    return this.progressBatch.flush();
  }

  /** Completes a task in progress; its attempt ends as `completed` with `llm` and `detail`. Undefined when it was not in progress (or the write is deferred: see the class). */
  complete(id: string, result: unknown, llm?: LlmUsage, detail?: string): Task | undefined {
    const args = [id, result === undefined ? null : JSON.stringify(result), llm, detail ?? null, this.now()] as const;
    try {
      const r = this.tx.complete.immediate(...args);
      return r ? toTask(r) : undefined;
    } catch (err) {
      if (!this.refused(err, `record task ${id} as completed`)) throw err;
      this.deferred.set(id, () => this.tx.complete.immediate(...args));
      return undefined;
    }
  }

  /**
   * Ends a task's attempt with a failure of `cause`. A counted cause (`COUNTED_CAUSES`)
   * uses up the attempt: the task is re-queued, due after the retry backoff, while
   * attempts remain and the failure is retryable, else dead-lettered (status `failed`,
   * kept with its error). Any other cause gives the attempt back, as `release()` does
   * (outcome `retry`, due at once).
   */
  fail(id: string, error: string, retryable: boolean, llm?: LlmUsage, cause: AttemptCause = 'agent_failed'): FailOutcome | undefined {
    if (!COUNTED_CAUSES.has(cause)) return this.release(id, cause as ReleaseCause, error, llm) ? 'retry' : undefined;
    const args = [id, error, retryable, llm, cause, this.now()] as const;
    try {
      return this.tx.fail.immediate(...args);
    } catch (err) {
      if (!this.refused(err, `record the failure of task ${id}`)) throw err;
      this.deferred.set(id, () => this.tx.fail.immediate(...args));
      // The outcome the deferred write will have (nothing else changes an in-progress task meanwhile).
      const r = this.stmts.get.get(id) as Row | undefined;
      if (!r || r.status !== 'in_progress') return undefined;
      return retryable && r.attempts < this.opts.maxAttempts ? 'retry' : 'dead_lettered';
    }
  }

  /** The backoff after `attemptsUsed` counted attempts, in ms (0 without `retryBackoff`). */
  retryDelay(attemptsUsed: number): number {
    return this.opts.retryBackoff ? new ExponentialBackoff(this.opts.retryBackoff, Math.max(1, attemptsUsed)).duration : 0;
  }

  /**
   * Puts a task in progress back to pending, due at once, without using up an
   * attempt: the attempt ended for a reason that is not the agent's failure (`cause`
   * is not in `COUNTED_CAUSES`). Returns false when the task was not in progress.
   */
  release(id: string, cause: ReleaseCause, detail: string, llm?: LlmUsage): boolean {
    const args = [id, cause, detail, llm, this.now()] as const;
    try {
      return this.tx.release.immediate(...args);
    } catch (err) {
      if (!this.refused(err, `give task ${id} back to the queue`)) throw err;
      this.deferred.set(id, () => this.tx.release.immediate(...args));
      return (this.stmts.get.get(id) as Row | undefined)?.status === 'in_progress';
    }
  }

  /**
   * Cancels a pending or running task; a running attempt ends as `cancelled` (not counted).
   * @throws DiskFullError when the disk refuses the write (nothing changed).
   */
  cancel(id: string): boolean {
    try {
      return this.tx.cancel.immediate(id, this.now());
    } catch (err) {
      throw this.refused(err, `cancel task ${id}`) ?? err;
    }
  }

  /**
   * `background retry`: puts a failed (dead-lettered) or cancelled task back to
   * pending, due at once, with its attempts reset to 0. Its attempt history is kept
   * and the retry is recorded (cause `operator_retry`, with `detail`).
   * @throws UnknownTaskError when there is no such task.
   * @throws TaskStateError when the task is pending, in progress or completed.
   */
  retry(id: string, detail = 'retried by the operator'): Task {
    return toTask(this.tx.retry.immediate(id, detail, this.now()));
  }

  /**
   * `background priority`: a pending task's new priority, see {@link TaskPriority.set} (its `@throws` too).
   * @throws DiskFullError when the disk refuses the write (nothing changed).
   */
  reprioritise(id: string, priority: number): { task: Task; previous: number } {
    try {
      const { row, previous } = this.priorities.set(id, priority, this.now());
      return { task: toTask(row as Row), previous };
    } catch (err) {
      throw this.refused(err, `re-prioritise task ${id}`) ?? err;
    }
  }

  /** The task's last attempt (running or ended), if it ever started. */
  lastAttempt(id: string): AttemptRecord | undefined {
    return this.attemptLog.last(id);
  }

  /** Records the replica of a task's running attempt (a per_task run's slot). */
  setAttemptReplica(id: string, replica: string): void {
    this.attemptLog.setReplica(id, replica);
  }

  /** The task with its attempt history and retries (the API's and `tasks --json`'s shape). */
  withHistory(task: Task): TaskWithHistory {
    return { ...task, attempt_history: this.attemptLog.history(task.id), retries: this.attemptLog.retries(task.id) };
  }

  /** `withHistory` for a list of tasks, in two queries. */
  withHistories(tasks: readonly Task[]): TaskWithHistory[] {
    const h = this.attemptLog.historyOfMany(tasks.map((t) => t.id));
    return tasks.map((t) => ({ ...t, attempt_history: h.get(t.id)?.attempts ?? [], retries: h.get(t.id)?.retries ?? [] }));
  }

  /** Tasks that were in progress (e.g. when a previous supervisor was killed). */
  inProgress(): Task[] {
    this.settleProgress();
    return (this.stmts.inProgress.all() as Row[]).map(toTask);
  }

  list(filter: { status?: TaskStatus | undefined; role?: string | undefined; correlationId?: string | undefined; limit?: number | undefined } = {}): Task[] {
    this.settleProgress();
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) { where.push('status = ?'); args.push(filter.status); }
    if (filter.role) { where.push('role = ?'); args.push(filter.role); }
    if (filter.correlationId) { where.push('correlation_id = ?'); args.push(filter.correlationId); }
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, Math.min(filter.limit ?? 100, 10_000)) as Row[]).map(toTask);
  }

  /** Exact queue figures for metrics and `status`. */
  stats(): QueueStats {
    return queueStatsFrom(this.stmts.depth.all() as { role: string; priority: number; n: number; oldest: number }[], this.stmts.running.all() as { role: string; n: number }[]);
  }

  /** How many tasks are in each status now (every status present, 0 when none); failed ones are the dead letters. */
  countsByStatus(): Record<TaskStatus, number> {
    const out: Record<TaskStatus, number> = { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of this.stmts.byStatus.all() as { status: TaskStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  /** Completion-time percentiles, throughput, error rate and LLM usage by role from `sinceMs` to `now`. */
  performance(sinceMs: number, now = this.now()): RoleStats[] {
    return taskStats(this.db, sinceMs, now);
  }

  /** Keeps the newest `historyRetention` finished tasks (skipped while the disk is full). */
  pruneHistory(): number {
    try {
      return this.stmts.prune.run(this.opts.historyRetention).changes;
    } catch (err) {
      if (!this.refused(err, 'prune the task history')) throw err;
      return 0;
    }
  }

  /** Task outcomes waiting for the disk (see the class). */
  get deferredWrites(): number {
    return this.deferred.size;
  }

  /**
   * Writes the outcomes the disk refused earlier, oldest first; stops at the first
   * refused again. Cheap when there are none: call it on a timer and when the disk recovers.
   * @returns how many were written
   */
  flushDeferred(): number {
    if (!this.deferred.size) return 0;
    try {
      return this.deferred.flush();
    } catch (err) {
      if (!this.refused(err, 'write the task outcomes kept while the disk was full')) throw err;
      return 0;
    }
  }

  /** Writes the waiting progress reports first, so that a read or a state change sees them. */
  private settleProgress(): void {
    if (this.progressBatch.size) this.progressBatch.flush();
  }

  /** `err` as a DiskFullError (told to `onDiskFull`) when the disk refused a write; else undefined. */
  private refused(err: unknown, what: string): DiskFullError | undefined {
    const e = DiskFullError.from(err, path.dirname(this.db.name), what);
    if (e) this.opts.onDiskFull?.(e);
    return e;
  }
}
