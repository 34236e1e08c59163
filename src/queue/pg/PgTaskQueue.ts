import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ExponentialBackoff } from '../../recovery/ExponentialBackoff.js';
import {
  COUNTED_CAUSES, DuplicateTaskError, QueueFullError, TaskStateError, UnknownTaskError,
  type AttemptCause, type LlmUsage, type ReleaseCause, type SubmitInput, type Task,
} from '../Task.js';
import type { QueueStore } from '../QueueStore.js';
import { PRIORITY } from '../TaskPriority.js';
import type { FailOutcome, QueueOptions } from '../TaskQueue.js';
import { PgQueueReader } from './PgQueueReader.js';
import { closeAttempt, inTx, json, notifyRole } from './pgTx.js';

export { TASKS_CHANNEL } from './pgTx.js';
import { LeaseLostError, leaseOf, toTask, type Lease, type PgTaskRow } from './pgRows.js';

/** Serialises submits fleet-wide, so `max_depth` holds exactly as on SQLite. */
const SUBMIT_LOCK_KEY = 0x61_67_6e_74_73;

export interface PgQueueOptions extends Omit<QueueOptions, 'onDiskFull'> {
  /** This supervisor's id: the holder of the leases it takes. Unique in the fleet (e.g. `host:pid` or the config's name). */
  supervisorId: string;
  /** How long a lease lasts without `renew()`, ms (default 30 000). Checked against the database's clock. */
  leaseMs?: number | undefined;
  /** Told of every write refused because this supervisor's lease is gone (the call then returns undefined / false). */
  onLeaseLost?: ((err: LeaseLostError) => void) | undefined;
}

/**
 * The task queue on PostgreSQL, for a fleet of supervisors sharing one backlog: the
 * SQLite `TaskQueue`'s semantics (priorities, FIFO within a priority, attempts with
 * causes, backoff, dead letters, cancel, retry, retention), async, plus leases.
 *
 * `take()` leases a task to this supervisor: holder, expiry (database clock, `leaseMs`)
 * and a fencing token from one sequence. `renew()`/`renewAll()` extend it while the task
 * runs. Every write of the holder (`complete`, `fail`, `release`, `progress`) carries the
 * token it took the task with; once another supervisor has taken the task over (its lease
 * ran out: that attempt ends as `supervisor_lost`, not counted) the old holder's write
 * matches no row, is refused and reported to `onLeaseLost` (a progress report is only
 * dropped: it is acknowledged to no one). A holder whose lease ran out but that nobody
 * took over still writes: nothing was given to anyone else.
 */
export class PgTaskQueue extends PgQueueReader implements QueueStore {
  /** The leases this instance holds: task id → lease. */
  private readonly held = new Map<string, Lease>();
  readonly supervisorId: string;
  private readonly leaseMs: number;

  constructor(pool: pg.Pool, private readonly opts: PgQueueOptions) {
    super(pool, opts.now ?? Date.now, opts.historyRetention);
    this.supervisorId = opts.supervisorId;
    this.leaseMs = opts.leaseMs ?? 30_000;
  }

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTx(this.pool, fn);
  }

  /**
   * Adds a pending task (and wakes the takers of its role).
   * @throws QueueFullError when `maxDepth` tasks are already pending, fleet-wide.
   * @throws DuplicateTaskError when `input.id` exists.
   */
  async submit(input: SubmitInput): Promise<Task> {
    const id = input.id ?? `task_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const now = this.now();
    try {
      return await this.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [SUBMIT_LOCK_KEY]);
        const { rows: [{ n } = { n: 0 }] } = await c.query<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE status = 'pending'");
        if (n >= this.opts.maxDepth) throw new QueueFullError(n, this.opts.maxDepth);
        const { rows } = await c.query<PgTaskRow>(`INSERT INTO tasks (id, role, title, prompt, payload, priority, status, attempts, created_at, updated_at, correlation_id, traceparent, max_turns, max_cost_usd)
          VALUES ($1, $2, $3, $4, $5::jsonb, $6, 'pending', 0, $7, $7, $8, $9, $10, $11) RETURNING *`,
        [id, input.role, input.title, input.prompt ?? null, json(input.payload), input.priority ?? 5, now, input.correlation_id, input.traceparent ?? null, input.max_turns ?? null, input.max_cost_usd ?? null]);
        await notifyRole(c, input.role);
        return toTask(rows[0] as PgTaskRow);
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === '23505') throw new DuplicateTaskError(id);
      throw err;
    }
  }

  /**
   * Leases the highest-priority, oldest due task of `role` to this supervisor and opens its
   * next attempt (`agentId` is recorded as `assigned_to`, `who` with the attempt). A task
   * in progress whose lease (another supervisor's) ran out counts as due: its attempt ends as `supervisor_lost`
   * (given back, not counted) and it is taken over here. Rows another supervisor is taking
   * at this moment are skipped (`FOR UPDATE SKIP LOCKED`), so two never get the same task.
   */
  async take(role: string, agentId: string, who: { agent?: string | undefined; replica?: string | undefined } = {}): Promise<(Task & { lease: Lease }) | undefined> {
    const now = this.now();
    const row = await this.tx(async (c) => {
      // Not its own expired leases: a live supervisor renews those (its task still runs here, after a database outage say).
      const { rows: [due] } = await c.query<PgTaskRow>(`SELECT * FROM tasks WHERE role = $1 AND (
          (status = 'pending' AND (not_before IS NULL OR not_before <= $2)) OR (status = 'in_progress' AND lease_expires_at < clock_timestamp() AND lease_holder IS DISTINCT FROM $3))
        ORDER BY priority DESC, created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED`, [role, now, this.supervisorId]);
      if (!due) return undefined;
      const lost = due.status === 'in_progress';
      if (lost) {
        const why = `the lease of supervisor ${due.lease_holder ?? '?'} (token ${due.lease_token ?? '?'}) ran out at ${due.lease_expires_at?.toISOString() ?? '?'}; taken over by ${this.supervisorId}`;
        await closeAttempt(c, due.id, now, 'supervisor_lost', why, false, undefined);
        await c.query("UPDATE tasks SET error = $2 WHERE id = $1", [due.id, `supervisor_lost: ${why}`]);
      }
      const { rows: [r] } = await c.query<PgTaskRow>(`UPDATE tasks SET status = 'in_progress', assigned_to = $2,
          attempts = CASE status WHEN 'in_progress' THEN GREATEST(attempts - 1, 0) ELSE attempts END + 1, attempt = attempt + 1,
          not_before = NULL, started_at = $3, updated_at = $3, last_activity_at = $3, progress = NULL, progress_message = NULL,
          lease_holder = $4, lease_token = nextval('lease_tokens'), lease_expires_at = clock_timestamp() + $5 * interval '1 millisecond'
        WHERE id = $1 RETURNING *`, [due.id, agentId, now, this.supervisorId, this.leaseMs]);
      const t = r as PgTaskRow;
      await c.query('INSERT INTO task_attempts (task_id, n, agent, replica, supervisor, started_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [t.id, t.attempt, who.agent ?? agentId, who.replica ?? null, this.supervisorId, now]);
      return t;
    });
    if (!row) return undefined;
    const lease = leaseOf(row);
    this.held.set(row.id, lease);
    return { ...toTask(row), lease };
  }

  /** The lease this instance holds on `taskId`, if any. */
  leaseOf(taskId: string): Lease | undefined {
    return this.held.get(taskId);
  }

  /**
   * Takes back the leases the database says this supervisor id holds (a supervisor that
   * restarted with the same id, before they ran out), so it can release or finish them.
   */
  async adoptLeases(): Promise<Task[]> {
    const { rows } = await this.pool.query<PgTaskRow>("SELECT * FROM tasks WHERE status = 'in_progress' AND lease_holder = $1", [this.supervisorId]);
    for (const r of rows) this.held.set(r.id, leaseOf(r));
    return rows.map(toTask);
  }

  /** Extends this supervisor's lease on `taskId` by `leaseMs` from now. False (and reported) when the lease is gone. */
  async renew(taskId: string): Promise<boolean> {
    const lease = this.held.get(taskId);
    if (!lease) return this.lost(taskId, 'renew the lease of', undefined, undefined).then(() => false);
    const { rows } = await this.pool.query<{ lease_expires_at: Date }>(`UPDATE tasks SET lease_expires_at = clock_timestamp() + $3 * interval '1 millisecond'
      WHERE id = $1 AND lease_token = $2 AND status = 'in_progress' RETURNING lease_expires_at`, [taskId, lease.token, this.leaseMs]);
    if (rows[0]) {
      lease.expiresAt = rows[0].lease_expires_at;
      return true;
    }
    await this.lost(taskId, 'renew the lease of', lease, undefined);
    return false;
  }

  /** Renews every lease this instance holds in one statement; returns the ids whose lease was gone (each reported). */
  async renewAll(): Promise<string[]> {
    if (!this.held.size) return [];
    const leases = [...this.held.values()];
    const { rows } = await this.pool.query<{ id: string; lease_expires_at: Date }>(`UPDATE tasks t SET lease_expires_at = clock_timestamp() + $3 * interval '1 millisecond'
      FROM unnest($1::text[], $2::bigint[]) AS h(id, token) WHERE t.id = h.id AND t.lease_token = h.token AND t.status = 'in_progress'
      RETURNING t.id, t.lease_expires_at`, [leases.map((l) => l.taskId), leases.map((l) => l.token), this.leaseMs]);
    const renewed = new Map(rows.map((r) => [r.id, r.lease_expires_at]));
    const gone: string[] = [];
    for (const l of leases) {
      const at = renewed.get(l.taskId);
      if (at) l.expiresAt = at;
      else if (this.held.get(l.taskId) === l) { gone.push(l.taskId); await this.lost(l.taskId, 'renew the lease of', l, undefined); }
    }
    return gone;
  }

  /**
   * Releases every lease that ran out, fleet-wide, as `supervisor_lost` (the task goes back
   * to pending, attempt given back): for tasks of roles no supervisor is taking now. Any
   * supervisor may run it on a timer. Returns the ids released.
   */
  async reclaimExpired(): Promise<string[]> {
    const now = this.now();
    return this.tx(async (c) => {
      const { rows } = await c.query<PgTaskRow>("SELECT * FROM tasks WHERE status = 'in_progress' AND lease_expires_at < clock_timestamp() FOR UPDATE SKIP LOCKED");
      for (const r of rows) {
        const why = `the lease of supervisor ${r.lease_holder ?? '?'} (token ${r.lease_token ?? '?'}) ran out at ${r.lease_expires_at?.toISOString() ?? '?'}; released by ${this.supervisorId}`;
        await closeAttempt(c, r.id, now, 'supervisor_lost', why, false, undefined);
        await c.query(`UPDATE tasks SET status = 'pending', assigned_to = NULL, attempts = GREATEST(attempts - 1, 0), not_before = NULL, error = $2, updated_at = $3,
          lease_holder = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = $1`, [r.id, `supervisor_lost: ${why}`, now]);
        await notifyRole(c, r.role);
      }
      return rows.map((r) => r.id);
    });
  }

  /** Records progress and activity of a task this supervisor holds (refused when the lease is gone). */
  async progress(id: string, fraction: number | undefined, message: string | undefined): Promise<void> {
    const lease = this.held.get(id);
    if (!lease) return;
    const now = this.now();
    await this.pool.query(`UPDATE tasks SET progress = COALESCE($2, progress), progress_message = COALESCE($3, progress_message), last_activity_at = $4, updated_at = $4
      WHERE id = $1 AND status = 'in_progress' AND lease_token = $5`, [id, fraction ?? null, message ?? null, now, lease.token]);
  }

  /** Records the replica of the running attempt (a per_task run's slot). */
  async setAttemptReplica(id: string, replica: string): Promise<void> {
    await this.pool.query('UPDATE task_attempts SET replica = $2 WHERE task_id = $1 AND n = (SELECT MAX(n) FROM task_attempts WHERE task_id = $1) AND ended_at IS NULL', [id, replica]);
  }

  /** Completes a task this supervisor holds. Undefined when it was not in progress, or (reported) when the lease is gone. */
  async complete(id: string, result: unknown, llm?: LlmUsage, detail?: string): Promise<Task | undefined> {
    return this.holderWrite(id, 'complete', async (c, lease, now) => {
      const { rows: [r] } = await c.query<PgTaskRow>(`UPDATE tasks SET status = 'completed', result = $2::jsonb, llm = COALESCE($3::jsonb, llm), finished_at = $4, updated_at = $4, progress = 1,
          lease_holder = NULL, lease_token = NULL, lease_expires_at = NULL
        WHERE id = $1 AND status = 'in_progress' AND lease_token = $5 RETURNING *`, [id, json(result), json(llm), now, lease.token]);
      if (r) await closeAttempt(c, id, now, 'completed', detail ?? null, true, llm);
      return r ? toTask(r) : undefined;
    });
  }

  /** As `TaskQueue.fail`: a counted cause re-queues after the backoff or dead-letters; any other cause releases. */
  async fail(id: string, error: string, retryable: boolean, llm?: LlmUsage, cause: AttemptCause = 'agent_failed'): Promise<FailOutcome | undefined> {
    if (!COUNTED_CAUSES.has(cause)) return (await this.release(id, cause as ReleaseCause, error, llm)) ? 'retry' : undefined;
    return this.holderWrite(id, 'fail', async (c, lease, now) => {
      const { rows: [r] } = await c.query<PgTaskRow>("SELECT * FROM tasks WHERE id = $1 AND status = 'in_progress' AND lease_token = $2 FOR UPDATE", [id, lease.token]);
      if (!r) return undefined;
      await closeAttempt(c, id, now, cause, error, true, llm);
      const clear = 'lease_holder = NULL, lease_token = NULL, lease_expires_at = NULL';
      if (retryable && r.attempts < this.opts.maxAttempts) {
        await c.query(`UPDATE tasks SET status = 'pending', assigned_to = NULL, error = $2, not_before = $3, updated_at = $4, ${clear} WHERE id = $1`, [id, error, now + this.retryDelay(r.attempts), now]);
        return 'retry';
      }
      const why = retryable ? `${error} (gave up after ${r.attempts} attempts)` : error;
      await c.query(`UPDATE tasks SET status = 'failed', error = $2, llm = COALESCE($3::jsonb, llm), finished_at = $4, updated_at = $4, ${clear} WHERE id = $1`, [id, why, json(llm), now]);
      return 'dead_lettered';
    });
  }

  /** The backoff after `attemptsUsed` counted attempts, in ms (0 without `retryBackoff`). */
  retryDelay(attemptsUsed: number): number {
    return this.opts.retryBackoff ? new ExponentialBackoff(this.opts.retryBackoff, Math.max(1, attemptsUsed)).duration : 0;
  }

  /** As `TaskQueue.release`: back to pending, due at once, attempt given back. False when not in progress or the lease is gone. */
  async release(id: string, cause: ReleaseCause, detail: string, llm?: LlmUsage): Promise<boolean> {
    return (await this.holderWrite(id, 'release', async (c, lease, now) => {
      const { rows: [r] } = await c.query<PgTaskRow>(`UPDATE tasks SET status = 'pending', assigned_to = NULL, attempts = GREATEST(attempts - 1, 0), not_before = NULL, error = $2, updated_at = $3,
          lease_holder = NULL, lease_token = NULL, lease_expires_at = NULL
        WHERE id = $1 AND status = 'in_progress' AND lease_token = $4 RETURNING *`, [id, `${cause}: ${detail}`, now, lease.token]);
      if (!r) return undefined;
      await closeAttempt(c, id, now, cause, detail, false, llm);
      await notifyRole(c, r.role);
      return true;
    })) === true;
  }

  /** Cancels a pending or running task (an operator's act: no lease needed); a running attempt ends as `cancelled`. */
  async cancel(id: string): Promise<boolean> {
    const now = this.now();
    return this.tx(async (c) => {
      const { rows: [r] } = await c.query<PgTaskRow>("SELECT * FROM tasks WHERE id = $1 AND status IN ('pending', 'in_progress') FOR UPDATE", [id]);
      if (!r) return false;
      await c.query(`UPDATE tasks SET status = 'cancelled', attempts = CASE status WHEN 'in_progress' THEN GREATEST(attempts - 1, 0) ELSE attempts END, not_before = NULL,
        finished_at = $2, updated_at = $2, lease_holder = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = $1`, [id, now]);
      if (r.status === 'in_progress') await closeAttempt(c, id, now, 'cancelled', 'cancelled by the operator', false, undefined);
      this.held.delete(id); // cancelled here: nothing to renew (a renewal would report the lease lost)
      return true;
    });
  }

  /**
   * `background retry`: a failed or cancelled task back to pending, attempts reset, history kept.
   * @throws UnknownTaskError, TaskStateError (as `TaskQueue.retry`)
   */
  async retry(id: string, detail = 'retried by the operator'): Promise<Task> {
    const now = this.now();
    return this.tx(async (c) => {
      const { rows: [r] } = await c.query<PgTaskRow>('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [id]);
      if (!r) throw new UnknownTaskError(id);
      if (r.status !== 'failed' && r.status !== 'cancelled') throw new TaskStateError(id, r.status, 'retry', ['failed', 'cancelled']);
      await c.query('INSERT INTO task_retries (task_id, at, cause, detail, previous_status, attempts_before, after_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [id, now, 'operator_retry', detail, r.status, r.attempts, r.attempt]);
      const { rows: [t] } = await c.query<PgTaskRow>(`UPDATE tasks SET status = 'pending', attempts = 0, not_before = NULL, assigned_to = NULL, started_at = NULL, finished_at = NULL,
        result = NULL, error = NULL, llm = NULL, progress = NULL, progress_message = NULL, updated_at = $2 WHERE id = $1 RETURNING *`, [id, now]);
      await notifyRole(c, r.role);
      return toTask(t as PgTaskRow);
    });
  }

  /**
   * `background priority`: a pending task's new priority (as `TaskQueue.reprioritise`).
   * @throws RangeError, UnknownTaskError, TaskStateError
   */
  async reprioritise(id: string, priority: number): Promise<{ task: Task; previous: number }> {
    if (!Number.isInteger(priority) || priority < PRIORITY.min || priority > PRIORITY.max) {
      throw new RangeError(`Expected priority to be a whole number from ${PRIORITY.min} to ${PRIORITY.max}, got ${priority}`);
    }
    return this.tx(async (c) => {
      const { rows: [r] } = await c.query<PgTaskRow>('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [id]);
      if (!r) throw new UnknownTaskError(id);
      if (r.status !== 'pending') throw new TaskStateError(id, r.status, 'reprioritise', ['pending']);
      const { rows: [t] } = await c.query<PgTaskRow>('UPDATE tasks SET priority = $2, updated_at = $3 WHERE id = $1 RETURNING *', [id, priority, this.now()]);
      return { task: toTask(t as PgTaskRow), previous: r.priority };
    });
  }

  /**
   * A write only the lease holder may make: `write` runs in a transaction with the held
   * lease; when it changes nothing, the task is read again to tell "not in progress any
   * more" (cancelled, say: undefined, as on SQLite) from "the lease is gone" (reported).
   */
  private async holderWrite<T>(id: string, operation: string, write: (c: pg.PoolClient, lease: Lease, now: number) => Promise<T | undefined>): Promise<T | undefined> {
    const lease = this.held.get(id);
    if (!lease) return this.lost(id, operation, undefined, undefined);
    const out = await this.tx((c) => write(c, lease, this.now()));
    if (out !== undefined) {
      if (this.held.get(id) === lease) this.held.delete(id);
      return out;
    }
    const { rows: [r] } = await this.pool.query<PgTaskRow & { cause: string | null }>(
      'SELECT t.*, a.cause FROM tasks t LEFT JOIN task_attempts a ON a.task_id = t.id AND a.n = $2 WHERE t.id = $1', [id, lease.attempt]);
    if (this.held.get(id) === lease) this.held.delete(id);
    if (r && r.attempt === lease.attempt && r.cause !== 'supervisor_lost') return undefined;
    return this.lost(id, operation, lease, r);
  }

  private lost(id: string, operation: string, lease: Lease | undefined, r: PgTaskRow | undefined): Promise<undefined> {
    const err = new LeaseLostError(id, operation, this.supervisorId, lease?.token, r ? { status: r.status, holder: r.lease_holder, attempt: r.attempt } : undefined);
    this.opts.onLeaseLost?.(err);
    return Promise.resolve(undefined);
  }
}
