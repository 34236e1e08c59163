import type { Pool } from 'pg';
import { PG_MIGRATIONS, type PgMigration } from './pgMigrations.js';

/** One migration as this build knows it, and when (if ever) the database recorded it. */
export interface PgMigrationState {
  version: number;
  name: string;
  /** When `schema_migrations` recorded it; null while it is pending. */
  applied_at: string | null;
}

export interface PgSchemaStatus {
  /** The highest version recorded in `schema_migrations` (0: no schema yet). */
  version: number;
  /** The highest version this build knows (what `migratePg` brings the database to). */
  expected: number;
  /** This build's migrations, in order, each applied or pending; versions the database has and this build does not know are in `unknown`. */
  migrations: PgMigrationState[];
  /** Versions recorded in the database that this build does not know (a newer build migrated it). */
  unknown: number[];
}

/**
 * Reads where the database's schema stands against this build's migrations, changing
 * nothing (no table is created: a database never migrated reads as version 0).
 */
export async function pgSchemaStatus(pool: Pool, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<PgSchemaStatus> {
  const { rows: [t] } = await pool.query<{ exists: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS exists");
  const rows = t?.exists
    ? (await pool.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM schema_migrations ORDER BY version')).rows
    : [];
  const at = new Map(rows.map((r) => [r.version, r.applied_at.toISOString()]));
  const known = new Set(migrations.map((m) => m.version));
  return {
    version: Math.max(0, ...rows.map((r) => r.version)),
    expected: Math.max(0, ...known),
    migrations: migrations.map((m) => ({ version: m.version, name: m.name, applied_at: at.get(m.version) ?? null })),
    unknown: rows.map((r) => r.version).filter((v) => !known.has(v)),
  };
}
