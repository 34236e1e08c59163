import BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tasks (
     id TEXT PRIMARY KEY,
     role TEXT NOT NULL,
     title TEXT NOT NULL,
     prompt TEXT,
     payload TEXT,
     priority INTEGER NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     assigned_to TEXT,
     correlation_id TEXT NOT NULL,
     traceparent TEXT,
     progress REAL,
     progress_message TEXT,
     last_activity_at INTEGER,
     result TEXT,
     error TEXT,
     llm TEXT
   );
   CREATE INDEX IF NOT EXISTS tasks_pending ON tasks(status, role, priority DESC, created_at);
   CREATE INDEX IF NOT EXISTS tasks_finished ON tasks(finished_at);
   CREATE INDEX IF NOT EXISTS tasks_correlation ON tasks(correlation_id);
   CREATE TABLE IF NOT EXISTS checkpoints (
     slot TEXT NOT NULL,
     seq INTEGER NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (slot, seq)
   );
   CREATE TABLE IF NOT EXISTS events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     agent TEXT,
     kind TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX IF NOT EXISTS events_at ON events(at);`,
];

/**
 * Opens the state database in WAL mode with synchronous=NORMAL... except that a
 * SIGKILL of the supervisor must lose nothing it acknowledged, so we use FULL:
 * a commit is durable when the call returns. Migrations are idempotent.
 */
export function openDatabase(file: string): Db {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${v + 1}`);
  }
  return db;
}
