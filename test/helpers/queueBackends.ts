import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PgTaskQueue, type PgQueueOptions } from '../../src/queue/pg/PgTaskQueue.js';
import { sqliteQueueStore, type QueueStore } from '../../src/queue/QueueStore.js';
import { TaskQueue, type QueueOptions } from '../../src/queue/TaskQueue.js';
import { openDatabase, type Db } from '../../src/store/Database.js';
import { openPgDatabase, type PgDatabase } from '../../src/store/pg/PgDatabase.js';

/** The queue's contract (src/queue/QueueStore.ts) plus what the suite reads of the store itself. */
export interface AsyncQueue extends QueueStore {
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

/** The SQLite TaskQueue through the same wrapper the wiring will use. */
export function sqliteQueue(q: TaskQueue, db: Db): AsyncQueue {
  return Object.assign(sqliteQueueStore(q), {
    rowCount: (table: string) => Promise.resolve((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n),
  });
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
