import pg from 'pg';
import { migratePg } from './pgMigrations.js';
import { checkPgUrl, PgConnectionError, redactUrl } from './pgUrl.js';

export { checkPgUrl, PgConnectionError, redactUrl };

/**
 * `bigint` (int8) columns as JavaScript numbers: they hold epoch milliseconds, counts and
 * fencing tokens, all far below 2^53. Set on our pools only, never on pg's global table.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text'))) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PgDatabaseOptions {
  /** Shown in pg_stat_activity (default `agentic-supervisor`). */
  applicationName?: string | undefined;
  /** Pool size (default 5). */
  max?: number | undefined;
  /** How long one connection attempt may take, ms (default 10 000). */
  connectTimeoutMs?: number | undefined;
  /** Run the migrations before returning (default true; `background db status` reads without changing). */
  migrate?: boolean | undefined;
}

export interface PgDatabase {
  readonly pool: pg.Pool;
  /** The URL, for messages: password hidden. */
  readonly where: string;
  /** The connection settings, for the dedicated LISTEN client. */
  readonly clientConfig: pg.ClientConfig;
  close(): Promise<void>;
}

/**
 * The driver's reason on one line: its SQLSTATE or errno code, then its message. A host
 * name that resolves to several addresses fails with an AggregateError whose own message
 * is empty: the first address's reason then.
 */
function describeConnectError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { message?: string }[] };
  const message = e.message || e.errors?.map((x) => x.message).find(Boolean) || String(err);
  return `${e.code ? `${e.code} ` : ''}${message}`.replace(/\s*\n\s*/g, ' ');
}

/**
 * Opens a pool on `url`, checks that the server answers, and runs the migrations (see
 * {@link migratePg}) before it returns, unless `migrate: false`.
 * @throws PgConnectionError for a malformed URL or a server that cannot be reached or refuses us
 */
export async function openPgDatabase(url: string, opts: PgDatabaseOptions = {}): Promise<PgDatabase> {
  checkPgUrl(url);
  const where = redactUrl(url);
  const clientConfig: pg.ClientConfig = {
    connectionString: url, types,
    application_name: opts.applicationName ?? 'agentic-supervisor',
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
  };
  const pool = new pg.Pool({ ...clientConfig, max: opts.max ?? 5 });
  // An idle client whose server went away: the pool drops it; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new PgConnectionError(`could not connect to PostgreSQL at ${where}: ${describeConnectError(err)}. Check that the server runs and the URL (host, port, user, database) is right.`, { cause: err });
  }
  try {
    if (opts.migrate !== false) await migratePg(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  let closed: Promise<void> | undefined;
  return { pool, where, clientConfig, close: () => (closed ??= pool.end()) };
}
