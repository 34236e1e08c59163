import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgConnectionError, openPgDatabase } from '../../src/store/pg/PgDatabase.js';
import { PG_MIGRATIONS, PgSchemaTooNewError, migratePg } from '../../src/store/pg/pgMigrations.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';

describe('PostgreSQL schema migrations (real PostgreSQL 15)', () => {
  let server: RealPostgres;
  beforeAll(async () => { server = await startPostgres(); });
  afterAll(async () => { await server?.stop(); });

  const versions = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
    } finally {
      await c.end();
    }
  };

  it('runs at open, records each version in schema_migrations, and does nothing the second time', async () => {
    const url = await server.createDatabase('once');
    const db = await openPgDatabase(url);
    expect(await versions(url)).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await migratePg(db.pool)).toEqual([]);
    await db.close();
    const again = await openPgDatabase(url);
    expect((await again.pool.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0]).toEqual({ n: PG_MIGRATIONS.length });
    await again.close();
  });

  it('two supervisors starting at once on an empty database: the advisory lock lets one apply each step, the other finds it done', async () => {
    const url = await server.createDatabase('race');
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: url, max: 2 }));
    try {
      const applied = await Promise.all(pools.map((p) => migratePg(p)));
      expect(applied.flat().sort()).toEqual(PG_MIGRATIONS.map((m) => m.version));
      expect(await versions(url)).toHaveLength(PG_MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('refuses a schema newer than it knows, saying to upgrade', async () => {
    const url = await server.createDatabase('newer');
    const db = await openPgDatabase(url);
    await db.pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
    const err = await migratePg(db.pool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgSchemaTooNewError);
    expect((err as Error).message).toMatch(/version 999, newer than this supervisor knows \(1\)\. Upgrade this supervisor/);
    await db.close();
  });

  it('a failing step is rolled back whole and not recorded', async () => {
    const url = await server.createDatabase('broken');
    const db = await openPgDatabase(url);
    const bad = [...PG_MIGRATIONS, { version: 2, name: 'broken', sql: 'CREATE TABLE half (n int); SELECT no_such_function()' }];
    await expect(migratePg(db.pool, bad)).rejects.toThrow(/PostgreSQL migration 2 \(broken\) failed: function no_such_function\(\) does not exist/);
    expect((await db.pool.query("SELECT to_regclass('half') AS t")).rows[0]).toEqual({ t: null });
    expect(await versions(url)).toHaveLength(PG_MIGRATIONS.length);
    await db.close();
  });

  it('a malformed or unreachable URL is a clear error that never shows the password', async () => {
    const msg = async (url: string) => {
      const e = await openPgDatabase(url, { connectTimeoutMs: 5000 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PgConnectionError);
      return (e as Error).message;
    };
    expect(await msg('not a url')).toBe('expected a PostgreSQL connection URL such as postgres://user@host:5432/dbname, got "not a url"');
    expect(await msg('mysql://u:secret@db/x')).toBe('expected a URL starting postgres:// or postgresql://, got mysql:// in mysql://u:***@db/x');
    expect(await msg(`postgres://u:secret@127.0.0.1:${server.port}`)).toMatch(/^expected a database name in the PostgreSQL URL/);
    const refused = await msg('postgres://u:secret@127.0.0.1:1/agentic');
    expect(refused).toMatch(/^could not connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/agentic: ECONNREFUSED .*Check that the server runs/);
    const noDb = await msg(server.urlOf('no_such_db'));
    expect(noDb).toMatch(/could not connect to PostgreSQL at .*: 3D000 database "no_such_db" does not exist/);
    for (const m of [refused, noDb]) expect(m).not.toContain('secret');
  });
});
