import type { Config } from '../../config/schema.js';
import type { PgDatabase } from '../../store/pg/PgDatabase.js';
import type { PgSchemaStatus } from '../../store/pg/pgSchemaStatus.js';
import { CliError, EXIT } from '../CliError.js';
import { printJson } from '../jsonOutput.js';

export interface DbFlags {
  config?: string | undefined;
  json?: boolean | undefined;
}

type Loaded = { queue: Readonly<Config['background']['queue']> };

/** The config's queue section; the loader (yaml, zod) is imported here, never by `--help`. */
async function loadQueue(flags: DbFlags, command: string): Promise<Loaded> {
  if (!flags.config) throw new CliError(`Give the supervisors' YAML config, whose background.queue says which database: agentic-scrum-setup background db ${command} --config <file>`, EXIT.USAGE);
  const { loadConfig } = await import('../../config/loadConfig.js');
  return { queue: loadConfig(flags.config).background.queue }; // ConfigError → exit 2
}

/**
 * Connects to the fleet's database without migrating (pg is imported only here, so a
 * SQLite config never loads the driver). A connection refused, a bad password or an
 * unknown database: CliError exit 1, `pg_connection`, one line, the password hidden.
 */
async function connect(q: Loaded['queue']): Promise<PgDatabase> {
  const { resolvePgUrl } = await import('../queueBackend.js');
  const url = resolvePgUrl(q); // ConfigError (exit 2) naming url_env or url_file
  const { openPgDatabase, PgConnectionError } = await import('../../store/pg/PgDatabase.js');
  try {
    return await openPgDatabase(url, { migrate: false, max: 1, applicationName: 'agentic-scrum-setup db' });
  } catch (err) {
    if (!(err instanceof PgConnectionError)) throw err;
    throw new CliError(hidePassword(err.message, url), EXIT.FAILED, 'pg_connection');
  }
}

/** The message with the URL's password removed wherever it appears (the driver's own text included), on one line. */
function hidePassword(message: string, url: string): string {
  let password = '';
  try { password = decodeURIComponent(new URL(url).password); } catch { /* not a URL: checked before */ }
  const oneLine = message.replace(/\s*\n\s*/g, ' ');
  return password ? oneLine.split(password).join('***') : oneLine;
}

const SQLITE_NOTE = 'background.queue.backend is sqlite: nothing to migrate. The SQLite database in the state directory migrates itself when the supervisor starts; `db migrate` is for backend: postgres (docs/operations.md, "Running a fleet").';

/**
 * `background db migrate --config <file>`: applies the PostgreSQL migrations the fleet's
 * database lacks (the same versioned steps, under the same advisory lock, as a supervisor
 * runs at start), and says which it applied and which were there already. Idempotent.
 * With backend sqlite: nothing to do, exit 0.
 * With --json: `{"ok":true,"action":"db migrate","backend","database","applied":[…],"already":[…],"version","expected"}`.
 */
export async function dbMigrateCommand(flags: DbFlags): Promise<number> {
  const { queue } = await loadQueue(flags, 'migrate');
  if (queue.backend === 'sqlite') {
    if (flags.json) printJson({ ok: true, action: 'db migrate', backend: 'sqlite', applied: [], already: [], note: SQLITE_NOTE });
    else process.stdout.write(`${SQLITE_NOTE}\n`);
    return EXIT.OK;
  }
  const db = await connect(queue);
  try {
    const [{ migratePg, PgSchemaTooNewError }, { pgSchemaStatus }] = await Promise.all([import('../../store/pg/pgMigrations.js'), import('../../store/pg/pgSchemaStatus.js')]);
    let applied: number[];
    try {
      applied = await migratePg(db.pool);
    } catch (err) {
      if (err instanceof PgSchemaTooNewError) throw new CliError(err.message, EXIT.FAILED, 'schema_too_new');
      throw err;
    }
    const s = await pgSchemaStatus(db.pool);
    const already = s.migrations.filter((m) => m.applied_at !== null && !applied.includes(m.version)).map((m) => m.version);
    if (flags.json) {
      printJson({ ok: true, action: 'db migrate', backend: 'postgres', database: db.where, applied, already, version: s.version, expected: s.expected });
      return EXIT.OK;
    }
    const lines = [`PostgreSQL ${db.where}`];
    for (const m of s.migrations) lines.push(`  ${applied.includes(m.version) ? 'applied' : 'present'}  ${String(m.version).padStart(3)}  ${m.name}${applied.includes(m.version) ? '' : ` (since ${m.applied_at ?? '?'})`}`);
    lines.push(applied.length
      ? `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}; the schema is at version ${s.version}, the version this build expects.`
      : `Nothing to apply: the schema is at version ${s.version}, the version this build expects.`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.OK;
  } finally {
    await db.close();
  }
}

/**
 * `background db status --config <file>`: the schema version of the fleet's database
 * against the version this build expects, changing nothing. Exits 0 when they are equal,
 * 1 when migrations are pending (run `db migrate`) or the database is newer than this
 * build. With backend sqlite: nothing to check, exit 0.
 * With --json: `{"backend","database","version","expected","up_to_date","migrations":[{version,name,applied_at}],"unknown":[…]}`.
 */
export async function dbStatusCommand(flags: DbFlags): Promise<number> {
  const { queue } = await loadQueue(flags, 'status');
  if (queue.backend === 'sqlite') {
    const note = 'background.queue.backend is sqlite: the SQLite database in the state directory migrates itself when the supervisor starts; there is no shared schema to check.';
    if (flags.json) printJson({ backend: 'sqlite', up_to_date: true, note });
    else process.stdout.write(`${note}\n`);
    return EXIT.OK;
  }
  const db = await connect(queue);
  let s: PgSchemaStatus;
  try {
    const { pgSchemaStatus } = await import('../../store/pg/pgSchemaStatus.js');
    s = await pgSchemaStatus(db.pool);
  } finally {
    await db.close();
  }
  const upToDate = s.version === s.expected && s.unknown.length === 0;
  if (flags.json) printJson({ backend: 'postgres', database: db.where, version: s.version, expected: s.expected, up_to_date: upToDate, migrations: s.migrations, unknown: s.unknown });
  else {
    const lines = [`PostgreSQL ${db.where}`];
    for (const m of s.migrations) lines.push(`  ${m.applied_at ? 'present' : 'pending'}  ${String(m.version).padStart(3)}  ${m.name}${m.applied_at ? ` (since ${m.applied_at})` : ''}`);
    for (const v of s.unknown) lines.push(`  unknown  ${String(v).padStart(3)}  (applied by a newer build)`);
    lines.push(upToDate ? `Schema at version ${s.version}, the version this build expects.`
      : s.unknown.length ? `Schema at version ${s.version}, newer than this build knows (${s.expected}): upgrade this build to the version the fleet runs.`
        : `Schema at version ${s.version}; this build expects ${s.expected}: run agentic-scrum-setup background db migrate --config ${flags.config ?? '<file>'} (a supervisor also migrates when it starts).`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return upToDate ? EXIT.OK : EXIT.FAILED;
}
