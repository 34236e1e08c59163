import type { Pool } from 'pg';

/** One versioned step of the PostgreSQL schema. Versions start at 1 and never change once released. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The fleet schema. Times are epoch milliseconds (`bigint`) from the queue's clock, as in
 * SQLite, except the lease's expiry, which is the database's own clock (`timestamptz`):
 * supervisors on several hosts then agree on whose lease has run out whatever their
 * clocks say. `seq` is the insertion order (SQLite's rowid): FIFO within a priority.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'tasks, attempts, retries, checkpoints, leases',
    sql: `
      CREATE TABLE tasks (
        id text PRIMARY KEY,
        seq bigserial NOT NULL,
        role text NOT NULL,
        title text NOT NULL,
        prompt text,
        payload jsonb,
        priority integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0,
        attempt integer NOT NULL DEFAULT 0,
        not_before bigint,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        started_at bigint,
        finished_at bigint,
        assigned_to text,
        correlation_id text NOT NULL,
        traceparent text,
        progress double precision,
        progress_message text,
        last_activity_at bigint,
        result jsonb,
        error text,
        llm jsonb,
        max_turns integer,
        max_cost_usd double precision,
        lease_holder text,
        lease_token bigint,
        lease_expires_at timestamptz
      );
      CREATE INDEX tasks_pending ON tasks (role, priority DESC, created_at, seq) WHERE status = 'pending';
      CREATE INDEX tasks_waiting ON tasks (not_before) WHERE status = 'pending' AND not_before IS NOT NULL;
      CREATE INDEX tasks_leases ON tasks (role, lease_expires_at) WHERE status = 'in_progress';
      CREATE INDEX tasks_finished ON tasks (finished_at);
      CREATE INDEX tasks_correlation ON tasks (correlation_id);
      -- Fencing tokens: one sequence for every lease, so a token is never handed out twice.
      CREATE SEQUENCE lease_tokens;
      CREATE TABLE task_attempts (
        task_id text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        n integer NOT NULL,
        agent text,
        replica text,
        supervisor text,
        started_at bigint NOT NULL,
        ended_at bigint,
        cause text,
        detail text,
        counted boolean,
        llm jsonb,
        PRIMARY KEY (task_id, n)
      );
      CREATE TABLE task_retries (
        id bigserial PRIMARY KEY,
        task_id text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        at bigint NOT NULL,
        cause text NOT NULL,
        detail text NOT NULL,
        previous_status text NOT NULL,
        attempts_before integer NOT NULL,
        after_attempt integer NOT NULL
      );
      CREATE INDEX task_retries_task ON task_retries (task_id);
      CREATE TABLE checkpoints (
        slot text NOT NULL,
        seq integer NOT NULL,
        state text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (slot, seq)
      );`,
  },
];

/** An arbitrary constant: the advisory lock every supervisor takes around its migrations. */
export const MIGRATION_LOCK_KEY = 0x61_67_6e_74_71; // "agntq"

export class PgSchemaTooNewError extends Error {
  readonly code = 'ERR_PG_SCHEMA_TOO_NEW';
  constructor(readonly found: number, readonly known: number) {
    super(`The PostgreSQL queue schema is at version ${found}, newer than this supervisor knows (${known}). Upgrade this supervisor to the version the rest of the fleet runs.`);
    this.name = 'PgSchemaTooNewError';
  }
}

/**
 * Applies the migrations this database lacks, in order, each in its own transaction with
 * its row in `schema_migrations`. Safe when several supervisors start at once: they wait
 * for one session-level advisory lock, and the second finds nothing left to do.
 * @returns the versions applied by this call (empty when the schema was current)
 * @throws PgSchemaTooNewError when the database holds a version this code does not know
 */
export async function migratePg(pool: Pool, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const have = new Set(rows.map((r) => r.version));
      const known = Math.max(0, ...migrations.map((m) => m.version));
      const newest = Math.max(0, ...have);
      if (newest > known) throw new PgSchemaTooNewError(newest, known);
      for (const m of migrations) {
        if (have.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
  return applied;
}
