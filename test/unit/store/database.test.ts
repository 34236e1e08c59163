import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { openDatabase } from '../../../src/store/Database.js';
import { DesiredStateStore } from '../../../src/store/DesiredStateStore.js';

/** The newest migration (Database.ts MIGRATIONS). */
const LATEST = 7;

describe('openDatabase (real SQLite file)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-db-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets WAL, synchronous=NORMAL, a busy timeout and foreign keys, and migrates once', () => {
    const file = path.join(dir, 'state.db');
    const db = openDatabase(file);
    const one = (sql: string) => db.prepare(sql).pluck().get();
    expect(one('PRAGMA journal_mode')).toBe('wal');
    expect(one('PRAGMA synchronous')).toBe(1); // NORMAL: commits survive a crash of the process (docs/recovery.md)
    expect(one('PRAGMA busy_timeout')).toBe(5000);
    expect(one('PRAGMA foreign_keys')).toBe(1);
    expect(one('PRAGMA user_version')).toBe(LATEST); // 1: tasks, checkpoints, events; 2: attempts and retries; 3: task_runs; 4: tasks_waiting; 5: agent_desired_state; 6: agent_scale; 7: a task's own run limits
    db.prepare('INSERT INTO events (at, agent, kind, detail) VALUES (?, ?, ?, ?)').run(1, 'qaa', 'started', null);
    db.close();
    const again = openDatabase(file); // migrations are not re-run, data stays
    expect(again.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(1);
    again.close();
  });

  it('migrates a version 1 database (before attempt accounting): tasks keep their attempts, and a running one can still finish', () => {
    const file = path.join(dir, 'v1.db');
    const old = new BetterSqlite3(file);
    old.exec(`CREATE TABLE tasks (id TEXT PRIMARY KEY, role TEXT NOT NULL, title TEXT NOT NULL, prompt TEXT, payload TEXT, priority INTEGER NOT NULL,
      status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, started_at INTEGER,
      finished_at INTEGER, assigned_to TEXT, correlation_id TEXT NOT NULL, traceparent TEXT, progress REAL, progress_message TEXT,
      last_activity_at INTEGER, result TEXT, error TEXT, llm TEXT);
      CREATE TABLE checkpoints (slot TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (slot, seq));
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, agent TEXT, kind TEXT NOT NULL, detail TEXT);
      INSERT INTO tasks (id, role, title, priority, status, attempts, created_at, updated_at, started_at, correlation_id)
        VALUES ('T1', 'w', 'old', 5, 'in_progress', 2, 1, 1, 1, 'c');
      PRAGMA user_version = 1;`);
    old.close();
    const db = openDatabase(file);
    expect(db.prepare('PRAGMA user_version').pluck().get()).toBe(LATEST);
    const q = new TaskQueue(db, { maxDepth: 10, maxAttempts: 3, historyRetention: 10 });
    expect(q.get('T1')).toMatchObject({ attempts: 2, attempt: 2, not_before: null });
    expect(q.withHistory(q.get('T1')!).attempt_history).toEqual([]);
    expect(q.release('T1', 'supervisor_lost', 'upgrade')).toBe(true);
    expect(q.take('w', 'w-0')).toMatchObject({ id: 'T1', attempts: 2, attempt: 3 });
    expect(q.withHistory(q.get('T1')!).attempt_history.map((a) => a.n)).toEqual([3]);
    db.close();
  });

  it('migration 4: the dispatcher finds the next task due after its backoff through tasks_waiting (one seek), on a version 3 database', () => {
    const file = path.join(dir, 'v3.db');
    const v3 = openDatabase(file);
    v3.exec('DROP INDEX tasks_waiting; CREATE INDEX tasks_not_before ON tasks(not_before) WHERE not_before IS NOT NULL; PRAGMA user_version = 3;');
    v3.close();
    const db = openDatabase(file);
    expect(db.prepare('PRAGMA user_version').pluck().get()).toBe(LATEST);
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    expect(indexes).toEqual(['tasks_correlation', 'tasks_finished', 'tasks_pending', 'tasks_waiting']);
    let now = 1_000;
    const q = new TaskQueue(db, { maxDepth: 100, maxAttempts: 5, historyRetention: 100, retryBackoff: { baseDelayMs: 1000, multiplier: 2, jitter: 0 }, now: () => now });
    for (let i = 0; i < 20; i++) q.submit({ role: 'w', title: `t${i}`, correlation_id: 'c' });
    expect(q.nextDueAt()).toBeUndefined();
    const t = q.take('w', 'w-0')!;
    q.fail(t.id, 'boom', true);
    expect(q.nextDueAt()).toBe(2_000);
    now = 1_500;
    const u = q.take('w', 'w-0')!;
    q.fail(u.id, 'boom', true);
    expect(q.nextDueAt()).toBe(2_000); // the earliest of 2,000 and 2,500
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT MIN(not_before) AS at FROM tasks INDEXED BY tasks_waiting WHERE not_before > ? AND status = 'pending'").all(0) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/COVERING INDEX tasks_waiting/);
    db.close();
  });

  it('migration 5: a version 4 database gets agent_desired_state; stops by agent and by replica survive a reopen, start forgets them', () => {
    const file = path.join(dir, 'v4.db');
    const v4 = openDatabase(file);
    v4.exec('DROP TABLE agent_desired_state; PRAGMA user_version = 4;');
    v4.close();
    const db = openDatabase(file);
    expect(db.prepare('PRAGMA user_version').pluck().get()).toBe(LATEST);
    const store = new DesiredStateStore(db);
    expect(store.stopped()).toEqual([]);
    store.stop('qaa', undefined, 1_000, 'maintenance');
    store.stop('qaa', undefined, 2_000, 'again'); // an existing stop keeps its time and reason
    store.stop('saa', '1', 3_000, null);
    db.close();
    const reopened = new DesiredStateStore(openDatabase(file));
    expect(reopened.stopped()).toEqual([
      { agent: 'qaa', replica: undefined, stoppedAt: 1_000, reason: 'maintenance' },
      { agent: 'saa', replica: '1', stoppedAt: 3_000, reason: null },
    ]);
    reopened.start('saa', '0'); // not stopped: nothing to forget
    reopened.start('saa', '1');
    reopened.stop('qaa', '2', 4_000, null);
    reopened.start('qaa'); // the whole agent: its rows, whole and per replica
    expect(reopened.stopped()).toEqual([]);
  });

  it('migration 6: a version 5 database gets agent_scale; a scale survives a reopen, undefined forgets it, and scale-down forgets the removed replicas\' stops', () => {
    const file = path.join(dir, 'v5.db');
    const v5 = openDatabase(file);
    v5.exec('DROP TABLE agent_scale; PRAGMA user_version = 5;');
    v5.close();
    const db = openDatabase(file);
    expect(db.prepare('PRAGMA user_version').pluck().get()).toBe(LATEST);
    const store = new DesiredStateStore(db);
    expect(store.scaleOf('qaa')).toBeUndefined();
    store.setScale('qaa', { replicas: 4, configReplicas: 2, at: 1_000 });
    store.setScale('qaa', { replicas: 3, configReplicas: 2, at: 2_000 });
    store.stop('qaa', '1', 1_000, null);
    store.stop('qaa', '2', 1_000, null);
    store.stop('qaa', '10', 1_000, null);
    store.stop('qaa', undefined, 1_000, null);
    db.close();
    const reopened = new DesiredStateStore(openDatabase(file));
    expect(reopened.scaleOf('qaa')).toEqual({ replicas: 3, configReplicas: 2, scaledAt: 2_000 });
    reopened.forgetReplicasFrom('qaa', 2); // indexes compare as numbers ("10" ≥ 2), the whole-agent row stays
    expect(reopened.stopped().map((e) => e.replica)).toEqual([undefined, '1']);
    reopened.setScale('qaa', undefined);
    expect(reopened.scaleOf('qaa')).toBeUndefined();
  });

  it('hands out one statement per SQL text, so no statement is ever garbage (the Node 24 abort)', () => {
    const db = openDatabase(path.join(dir, 'pinned.db'));
    const a = db.prepare('SELECT * FROM tasks WHERE id = ?');
    const b = db.prepare('SELECT * FROM tasks WHERE id = ?');
    expect(b).toBe(a);
    expect(db.prepare('SELECT * FROM tasks WHERE role = ?')).not.toBe(a);
    db.close();
  });

  it('migration 7: a version 6 database\'s tasks get max_turns and max_cost_usd (null: the agent\'s apply); a task\'s own limits survive a reopen', () => {
    const file = path.join(dir, 'v6.db');
    const v6 = openDatabase(file);
    v6.exec(`ALTER TABLE tasks DROP COLUMN max_turns; ALTER TABLE tasks DROP COLUMN max_cost_usd; PRAGMA user_version = 6;
      INSERT INTO tasks (id, role, title, priority, status, created_at, updated_at, correlation_id) VALUES ('OLD', 'x', 'before 7', 5, 'pending', 1, 1, 'c');`);
    v6.close();
    const db = openDatabase(file);
    expect(db.prepare('PRAGMA user_version').pluck().get()).toBe(LATEST);
    const q = new TaskQueue(db, { maxDepth: 100, maxAttempts: 5, historyRetention: 100 });
    expect(q.get('OLD')).toMatchObject({ max_turns: null, max_cost_usd: null });
    q.submit({ id: 'OWN', role: 'w', title: 'own limits', correlation_id: 'c', max_turns: 12, max_cost_usd: 0.75 });
    db.close();
    const reopened = new TaskQueue(openDatabase(file), { maxDepth: 100, maxAttempts: 5, historyRetention: 100 });
    expect(reopened.get('OWN')).toMatchObject({ max_turns: 12, max_cost_usd: 0.75 });
    // A lease and an operator's retry keep them: they belong to the task, not to an attempt.
    const t = reopened.take('w', 'w-0')!;
    expect(t.id).toBe('OWN');
    reopened.fail('OWN', 'boom', false);
    expect(reopened.retry('OWN')).toMatchObject({ status: 'pending', max_turns: 12, max_cost_usd: 0.75 });
  });
});
