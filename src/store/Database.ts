import BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;

/** A migration step: SQL, or a function for what SQL cannot say idempotently (a column that may exist). */
type Migration = string | ((db: Db) => void);

/** Adds the columns `table` lacks (SQLite has no ADD COLUMN IF NOT EXISTS): a step re-run on a reset user_version is harmless. */
const addColumns = (table: string, columns: Record<string, string>) => (db: Db): void => {
  const have = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  for (const [name, type] of Object.entries(columns)) if (!have.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
};

const MIGRATIONS: readonly Migration[] = [
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
  // 2: attempt accounting (every attempt of a task, with its cause) and retry backoff.
  `ALTER TABLE tasks ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tasks ADD COLUMN not_before INTEGER;
   UPDATE tasks SET attempt = attempts;
   CREATE INDEX IF NOT EXISTS tasks_not_before ON tasks(not_before) WHERE not_before IS NOT NULL;
   CREATE TABLE IF NOT EXISTS task_attempts (
     task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
     n INTEGER NOT NULL,
     agent TEXT,
     replica TEXT,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     cause TEXT,
     detail TEXT,
     counted INTEGER,
     llm TEXT,
     PRIMARY KEY (task_id, n)
   );
   CREATE TABLE IF NOT EXISTS task_retries (
     task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
     at INTEGER NOT NULL,
     cause TEXT NOT NULL,
     detail TEXT NOT NULL,
     previous_status TEXT NOT NULL,
     attempts_before INTEGER NOT NULL,
     after_attempt INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS task_retries_task ON task_retries(task_id);`,
  // 3: one row per finished per_task run (an attempt of a task): what `background metrics` sums.
  `CREATE TABLE IF NOT EXISTS task_runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     task_id TEXT NOT NULL,
     agent TEXT NOT NULL,
     role TEXT NOT NULL,
     slot TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     finished_at INTEGER NOT NULL,
     outcome TEXT NOT NULL,
     cause TEXT,
     error TEXT,
     cost_usd REAL,
     turns INTEGER,
     input_tokens INTEGER,
     output_tokens INTEGER,
     cache_creation_tokens INTEGER,
     cache_read_tokens INTEGER
   );
   CREATE INDEX IF NOT EXISTS task_runs_finished ON task_runs(finished_at);
   CREATE INDEX IF NOT EXISTS task_runs_agent ON task_runs(agent, finished_at);
   CREATE INDEX IF NOT EXISTS task_runs_task ON task_runs(task_id);`,
  // 4: the tasks waiting for their retry backoff, for the dispatcher's "when is the next one due" (one seek,
  // where tasks_pending made it read every pending task's row); it replaces tasks_not_before, which nothing used.
  `CREATE INDEX IF NOT EXISTS tasks_waiting ON tasks(not_before) WHERE status = 'pending' AND not_before IS NOT NULL;
   DROP INDEX IF EXISTS tasks_not_before;`,
  // 5: agents and replicas an operator stopped (`background stop <agent>`): they stay stopped across supervisor
  // restarts until `background start <agent>`. `replica` is the replica index ("1" for qaa-1), or '' for the whole agent.
  `CREATE TABLE IF NOT EXISTS agent_desired_state (
     agent TEXT NOT NULL,
     replica TEXT NOT NULL DEFAULT '',
     stopped_at INTEGER NOT NULL,
     reason TEXT,
     PRIMARY KEY (agent, replica)
   );`,
  // 6: replica counts set by `background scale <agent> <n>`; `config_replicas` is the config's `replicas` at that
  // moment: the row holds while the config still says that, and a changed config wins.
  `CREATE TABLE IF NOT EXISTS agent_scale (
     agent TEXT PRIMARY KEY,
     replicas INTEGER NOT NULL,
     config_replicas INTEGER NOT NULL,
     scaled_at INTEGER NOT NULL
   );`,
  // 7: a task's own run limits (submitted with it), overriding its agent's max_turns / max_cost_usd; NULL: the agent's.
  addColumns('tasks', { max_turns: 'INTEGER', max_cost_usd: 'REAL' }),
];

/**
 * Every database this process opened. Node 24.19+ aborts the process
 * (`Assertion failed: (env) != nullptr` in node::RemoveEnvironmentCleanupHook)
 * when V8 garbage-collects a better-sqlite3 ≤ 12 `Statement` or `Database` in an
 * idle GC, because their destructors remove an environment cleanup hook with no
 * environment entered (nodejs/node#65446; better-sqlite3 13 fixes it but needs
 * Node ≥ 22, and we support Node 20). The supervisor is idle most of the time, so
 * it died a few seconds after its first write. The workaround: no database and
 * no statement ever becomes garbage. Databases stay referenced here for the life
 * of the process (closed ones too), and {@link pinStatements} makes `prepare`
 * return one cached statement per SQL text. The cost is bounded: the SQL texts
 * are constants (and a few filter combinations), and a process opens a handful
 * of databases. At exit, Node's own cleanup hooks free them with an environment.
 */
const keepAlive = new Set<Db>();

/**
 * Makes `db.prepare(sql)` return the same statement for the same SQL text, kept
 * with the database for its lifetime (see {@link keepAlive}). Callers must not
 * change a shared statement's mode (`pluck`, `raw`, `expand`) except for SQL that
 * only they use.
 */
function pinStatements(db: Db): Db {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = db.prepare.bind(db) as (sql: string) => BetterSqlite3.Statement;
  Object.defineProperty(db, 'prepare', {
    value: (sql: string) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  });
  keepAlive.add(db);
  return db;
}

/**
 * Opens the state database in WAL mode with synchronous=NORMAL: a commit has
 * written its pages to the write-ahead log (in the OS's page cache) when the call
 * returns, so a crash or SIGKILL of this process loses nothing it committed; the
 * log is fsynced at each checkpoint, so only a power cut or kernel crash can lose
 * the transactions since the last one (the database stays consistent). See
 * docs/recovery.md, "What survives what". Migrations are idempotent.
 * Pragmas go through `exec` (no statement object) rather than `db.pragma()`,
 * whose throwaway statements would be collected (see {@link keepAlive}).
 */
export function openDatabase(file: string): Db {
  const db = pinStatements(new BetterSqlite3(file));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  const version = db.prepare('PRAGMA user_version').pluck().get() as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    // One transaction per step: a step that fails half-way (e.g. a full disk) is not half-applied.
    db.transaction(() => {
      const step = MIGRATIONS[v] as Migration;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }).immediate();
  }
  return db;
}
