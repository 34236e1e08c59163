import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PgTaskQueue, type PgQueueOptions } from '../../src/queue/pg/PgTaskQueue.js';
import type { AttemptCause, AttemptRecord, LlmUsage, ReleaseCause, SubmitInput, Task, TaskStatus, TaskWithHistory } from '../../src/queue/Task.js';
import { TaskQueue, type FailOutcome, type QueueOptions } from '../../src/queue/TaskQueue.js';
import { openDatabase, type Db } from '../../src/store/Database.js';
import { openPgDatabase, type PgDatabase } from '../../src/store/pg/PgDatabase.js';

/**
 * The queue's contract, async: what both stores offer, so one suite runs against both.
 * The SQLite `TaskQueue` is synchronous; {@link sqliteQueue} wraps it, nothing more.
 */
export interface AsyncQueue {
  submit(input: SubmitInput): Promise<Task>;
  get(id: string): Promise<Task | undefined>;
  take(role: string, agentId: string, who?: { agent?: string; replica?: string }): Promise<Task | undefined>;
  complete(id: string, result: unknown, llm?: LlmUsage, detail?: string): Promise<Task | undefined>;
  fail(id: string, error: string, retryable: boolean, llm?: LlmUsage, cause?: AttemptCause): Promise<FailOutcome | undefined>;
  release(id: string, cause: ReleaseCause, detail: string): Promise<boolean>;
  cancel(id: string): Promise<boolean>;
  retry(id: string, detail?: string): Promise<Task>;
  list(filter?: { status?: TaskStatus; role?: string; limit?: number }): Promise<Task[]>;
  stats(): Promise<ReturnType<TaskQueue['stats']>>;
  countsByStatus(): Promise<Record<TaskStatus, number>>;
  hasPending(role: string): Promise<boolean>;
  nextDueAt(): Promise<number | undefined>;
  lastAttempt(id: string): Promise<AttemptRecord | undefined>;
  withHistory(t: Task): Promise<TaskWithHistory>;
  withHistories(ts: readonly Task[]): Promise<TaskWithHistory[]>;
  pruneHistory(): Promise<number>;
  /** Rows in a table of the store (to see what pruning removed). */
  rowCount(table: 'tasks' | 'task_attempts' | 'task_retries'): Promise<number>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new, empty store for the next test. */
  reset(): Promise<void>;
  /** A queue on the current store (several share it: on PostgreSQL, several supervisors). */
  open(opts: Partial<QueueOptions>): Promise<AsyncQueue>;
  close(): Promise<void>;
}

/** The SQLite TaskQueue behind the async contract (each call's result, or its throw, as a promise). */
export function sqliteQueue(q: TaskQueue, db: Db): AsyncQueue {
  const p = <T>(fn: () => T): Promise<T> => new Promise((resolve) => { resolve(fn()); });
  return {
    submit: (i) => p(() => q.submit(i)),
    get: (id) => p(() => q.get(id)),
    take: (role, agentId, who) => p(() => q.take(role, agentId, who)),
    complete: (id, r, llm, d) => p(() => q.complete(id, r, llm, d)),
    fail: (id, e, retryable, llm, cause) => p(() => q.fail(id, e, retryable, llm, cause)),
    release: (id, cause, d) => p(() => q.release(id, cause, d)),
    cancel: (id) => p(() => q.cancel(id)),
    retry: (id, d) => p(() => q.retry(id, d)),
    list: (f) => p(() => q.list(f)),
    stats: () => p(() => q.stats()),
    countsByStatus: () => p(() => q.countsByStatus()),
    hasPending: (role) => p(() => q.hasPending(role)),
    nextDueAt: () => p(() => q.nextDueAt()),
    lastAttempt: (id) => p(() => q.lastAttempt(id)),
    withHistory: (t) => p(() => q.withHistory(t)),
    withHistories: (ts) => p(() => q.withHistories(ts)),
    pruneHistory: () => p(() => q.pruneHistory()),
    rowCount: (table) => p(() => db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).then((r) => r.n),
  };
}

const defaults = (o: Partial<QueueOptions>): QueueOptions => ({ maxDepth: 100, maxAttempts: 3, historyRetention: 100, ...o });

export function sqliteBackend(): Backend {
  let cur: { db: Db; dir: string } | undefined;
  const drop = () => {
    if (!cur) return;
    cur.db.close();
    rmSync(cur.dir, { recursive: true, force: true });
    cur = undefined;
  };
  return {
    name: 'sqlite',
    reset: () => {
      drop();
      const dir = mkdtempSync(path.join(tmpdir(), 'queue-backends-'));
      cur = { db: openDatabase(path.join(dir, 'q.db')), dir };
      return Promise.resolve();
    },
    open: (opts) => {
      if (!cur) throw new Error('reset() first');
      return Promise.resolve(sqliteQueue(new TaskQueue(cur.db, defaults(opts)), cur.db));
    },
    close: () => Promise.resolve(drop()),
  };
}

/** PgTaskQueue behind the same contract; `open` makes a new "supervisor" (its own id) on the shared database. */
export function pgBackend(url: () => string): Backend & { db(): PgDatabase; openPg(opts: Partial<PgQueueOptions>): PgTaskQueue } {
  let db: PgDatabase | undefined;
  let n = 0;
  const openPg = (opts: Partial<PgQueueOptions>): PgTaskQueue => {
    if (!db) throw new Error('reset() first');
    return new PgTaskQueue(db.pool, { supervisorId: `sup-${++n}`, ...defaults(opts), ...opts });
  };
  return {
    name: 'postgres',
    async reset() {
      db ??= await openPgDatabase(url(), { max: 10 });
      await db.pool.query('TRUNCATE tasks, task_attempts, task_retries, checkpoints RESTART IDENTITY CASCADE');
      n = 0;
    },
    open(opts) {
      const pool = (db as PgDatabase).pool;
      const rowCount = async (table: string) => (await pool.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
      return Promise.resolve(Object.assign(openPg(opts), { rowCount }));
    },
    db: () => {
      if (!db) throw new Error('reset() first');
      return db;
    },
    openPg,
    async close() {
      await db?.close();
      db = undefined;
    },
  };
}
