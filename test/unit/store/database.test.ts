import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/Database.js';

describe('openDatabase (real SQLite file)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-db-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets WAL, synchronous=FULL, a busy timeout and foreign keys, and migrates once', () => {
    const file = path.join(dir, 'state.db');
    const db = openDatabase(file);
    const one = (sql: string) => db.prepare(sql).pluck().get();
    expect(one('PRAGMA journal_mode')).toBe('wal');
    expect(one('PRAGMA synchronous')).toBe(2); // FULL
    expect(one('PRAGMA busy_timeout')).toBe(5000);
    expect(one('PRAGMA foreign_keys')).toBe(1);
    expect(one('PRAGMA user_version')).toBe(2); // 1: tasks, checkpoints, events; 2: task_runs
    db.prepare('INSERT INTO events (at, agent, kind, detail) VALUES (?, ?, ?, ?)').run(1, 'qaa', 'started', null);
    db.close();
    const again = openDatabase(file); // migrations are not re-run, data stays
    expect(again.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(1);
    again.close();
  });

  it('hands out one statement per SQL text, so no statement is ever garbage (the Node 24 abort)', () => {
    const db = openDatabase(path.join(dir, 'pinned.db'));
    const a = db.prepare('SELECT * FROM tasks WHERE id = ?');
    const b = db.prepare('SELECT * FROM tasks WHERE id = ?');
    expect(b).toBe(a);
    expect(db.prepare('SELECT * FROM tasks WHERE role = ?')).not.toBe(a);
    db.close();
  });
});
