import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../src/store/pg/pgMigrations.js';
import { runCli, writeConfig } from '../helpers/harness.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';

/**
 * `background db migrate` and `db status`, run as the real CLI (dist/) against a real
 * PostgreSQL 15: what each prints, its exit code, idempotence, two operators at once,
 * a refused connection and a refused password (never printed), and config errors.
 */

type Json = Record<string, unknown>;
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A config whose queue is the fleet database, its URL in the environment variable AGENTIC_TEST_DB_URL. */
function fleetConfig(postgres: Json = { url_env: 'AGENTIC_TEST_DB_URL' }): string {
  const c = writeConfig({ agents: [{ name: 'w', command: ['sleep', '60'] }], queue: { backend: 'postgres', postgres } });
  dirs.push(c.dir);
  return c.file;
}
const db = (url: string, ...args: string[]) => runCli(['background', 'db', ...args], { env: { AGENTIC_TEST_DB_URL: url } });
const json = (s: string) => JSON.parse(s) as Json;
/** The one JSON error line a failing `--json` command prints on stderr. */
function jsonError(stderr: string): { code: string; message: string } {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return (json(lines[0] as string).error as { code: string; message: string });
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('background db migrate and db status (real PostgreSQL 15)', () => {
  let server: RealPostgres;
  beforeAll(async () => { server = await startPostgres(); }, 180_000);
  afterAll(async () => { await server?.stop(); });
  const file = fleetConfig();
  const expected = Math.max(...PG_MIGRATIONS.map((m) => m.version));

  it('status on an empty database: version 0, every migration pending, exit 1, nothing created', async () => {
    const url = await server.createDatabase('fresh');
    const r = await db(url, 'status', '--config', file);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^ +pending +1 +${PG_MIGRATIONS[0]?.name}$`, 'm'));
    expect(r.stdout).toContain(`Schema at version 0; this build expects ${expected}: run agentic-scrum-setup background db migrate --config ${file}`);
    const j = await db(url, 'status', '--config', file, '--json');
    expect(j.code).toBe(1);
    expect(json(j.stdout)).toMatchObject({ backend: 'postgres', version: 0, expected, up_to_date: false, unknown: [] });
    expect(await query(url, "SELECT to_regclass('schema_migrations') AS t")).toEqual([{ t: null }]);
  });

  it('migrate applies every version once and says so; a second run applies nothing and lists them as present', async () => {
    const url = await server.createDatabase('twice');
    const first = await db(url, 'migrate', '--config', file);
    expect(first.code, first.stderr).toBe(0);
    for (const m of PG_MIGRATIONS) expect(first.stdout).toMatch(new RegExp(`^ +applied +${m.version} +${m.name}$`, 'm'));
    expect(first.stdout).toContain(`Applied ${PG_MIGRATIONS.length} migration`);
    expect((await query<{ version: number }>(url, 'SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    expect(await query(url, "SELECT to_regclass('tasks') IS NOT NULL AS t")).toEqual([{ t: true }]);
    const again = await db(url, 'migrate', '--config', file, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout)).toEqual({ ok: true, action: 'db migrate', backend: 'postgres', database: url, applied: [], already: PG_MIGRATIONS.map((m) => m.version), version: expected, expected });
    const text = await db(url, 'migrate', '--config', file);
    expect(text.stdout).toContain(`Nothing to apply: the schema is at version ${expected}`);
    const status = await db(url, 'status', '--config', file, '--json');
    expect(status.code).toBe(0);
    const s = json(status.stdout);
    expect(s).toMatchObject({ version: expected, expected, up_to_date: true });
    for (const m of s.migrations as { applied_at: string }[]) expect(Date.parse(m.applied_at)).toBeGreaterThan(0);
  });

  it('two operators migrating at once: both exit 0 and each version is applied by exactly one of them', async () => {
    const url = await server.createDatabase('race');
    const [a, b] = await Promise.all([db(url, 'migrate', '--config', file, '--json'), db(url, 'migrate', '--config', file, '--json')]);
    expect(a?.code, a?.stderr).toBe(0);
    expect(b?.code, b?.stderr).toBe(0);
    const applied = [...(json(a!.stdout).applied as number[]), ...(json(b!.stdout).applied as number[])].sort();
    expect(applied).toEqual(PG_MIGRATIONS.map((m) => m.version));
    expect(await query(url, 'SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: PG_MIGRATIONS.length }]);
  });

  it('reads the URL from url_file as well', async () => {
    const url = await server.createDatabase('fromfile');
    const urlFile = path.join(path.dirname(file), 'db-url');
    writeFileSync(urlFile, `${url}\n`, { mode: 0o600 });
    const r = await runCli(['background', 'db', 'migrate', '--config', fleetConfig({ url_file: urlFile }), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).applied).toEqual(PG_MIGRATIONS.map((m) => m.version));
  });

  it('a database migrated by a newer build: status exits 1 naming the unknown version, migrate refuses (exit 1, schema_too_new) and changes nothing', async () => {
    const url = await server.createDatabase('newer');
    expect((await db(url, 'migrate', '--config', file)).code).toBe(0);
    await query(url, "INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
    const s = await db(url, 'status', '--config', file);
    expect(s.code).toBe(1);
    expect(s.stdout).toMatch(/^ +unknown +999 +\(applied by a newer build\)$/m);
    expect(s.stdout).toContain(`newer than this build knows (${expected})`);
    const m = await db(url, 'migrate', '--config', file, '--json');
    expect(m.code).toBe(1);
    expect(m.stdout).toBe('');
    const err = jsonError(m.stderr);
    expect(err.code).toBe('schema_too_new');
    expect(err.message).toContain('version 999, newer than this supervisor knows');
    expect(await query(url, 'SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: PG_MIGRATIONS.length + 1 }]);
  });

  it('a refused connection exits 1 with one line that names the host and never the password', async () => {
    const url = 'postgres://postgres:Sup3r-s3cret@127.0.0.1:1/agentic'; // port 1: nothing listens
    const r = await db(url, 'migrate', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^could not connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/agentic: ECONNREFUSED .*Check that the server runs/);
    expect(r.stderr).not.toContain('Sup3r-s3cret');
    const j = await db(url, 'status', '--config', file, '--json');
    expect(j.code).toBe(1);
    expect(jsonError(j.stderr).code).toBe('pg_connection');
    expect(j.stderr).not.toContain('Sup3r-s3cret');
  });

  it('a wrong password exits 1 with the server\'s reason (28P01) and never the password', async () => {
    // The harness trusts every loopback login; this role must give a password (scram-sha-256).
    await query(server.url, "CREATE ROLE fleet_pw LOGIN PASSWORD 'the-right-one'");
    const hba = path.join(server.dir, 'data', 'pg_hba.conf');
    writeFileSync(hba, `host all fleet_pw 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
    await query(server.url, 'SELECT pg_reload_conf()');
    const ok = await db(server.url.replace('postgres://postgres@', 'postgres://fleet_pw:the-right-one@'), 'status', '--config', file, '--json');
    expect(ok.stderr).not.toContain('28P01'); // the right password gets in (status then reads the schema)
    const wrong = 'Wr0ng%2Fpass'; // percent-encoded in the URL: hidden decoded too
    const r = await db(server.url.replace('postgres://postgres@', `postgres://fleet_pw:${wrong}@`), 'migrate', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('28P01 password authentication failed for user "fleet_pw"');
    expect(r.stderr).toContain('postgres://fleet_pw:***@127.0.0.1');
    expect(r.stderr).not.toContain('Wr0ng');
  });

  it('backend sqlite: nothing to migrate or check, exit 0 (lazy-imports.test.ts: without loading pg)', async () => {
    const c = writeConfig({ agents: [] });
    dirs.push(c.dir);
    const r = await runCli(['background', 'db', 'migrate', '--config', c.file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('background.queue.backend is sqlite: nothing to migrate');
    const j = await runCli(['background', 'db', 'migrate', '--config', c.file, '--json']);
    expect(json(j.stdout)).toMatchObject({ ok: true, action: 'db migrate', backend: 'sqlite', applied: [], already: [] });
    const s = await runCli(['background', 'db', 'status', '--config', c.file, '--json']);
    expect(s.code).toBe(0);
    expect(json(s.stdout)).toMatchObject({ backend: 'sqlite', up_to_date: true });
  });

  it('config errors exit 2 naming the key: the variable unset, no postgres section, no --config', async () => {
    const unset = await runCli(['background', 'db', 'migrate', '--config', file], { env: { AGENTIC_TEST_DB_URL: '' } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('background.queue.postgres.url_env: expected the environment variable AGENTIC_TEST_DB_URL to hold the PostgreSQL connection URL, got it empty');
    const c = writeConfig({ agents: [], queue: { backend: 'postgres' } });
    dirs.push(c.dir);
    const none = await runCli(['background', 'db', 'status', '--config', c.file, '--json']);
    expect(none.code).toBe(2);
    expect(jsonError(none.stderr)).toEqual({ code: 'config', message: expect.stringContaining('background.queue.postgres: expected url_env or url_file when background.queue.backend is postgres, got neither') });
    const bad = await db('mysql://root:Sup3r-s3cret@db/agentic', 'migrate', '--config', file);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('background.queue.postgres.url_env: expected a URL starting postgres:// or postgresql://');
    expect(bad.stderr).not.toContain('Sup3r-s3cret');
    const missing = await runCli(['background', 'db', 'migrate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--config <file>');
  });
});
