import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_BIN, startPostgres, type RealPostgres } from '../helpers/postgres.js';

const run = promisify(execFile);
const psql = async (url: string, sql: string) => (await run(path.join(PG_BIN, 'psql'), [url, '-XtAc', sql])).stdout.trim();

describe('the test harness runs a real PostgreSQL 15', () => {
  let pg: RealPostgres;
  beforeAll(async () => { pg = await startPostgres(); });
  afterAll(async () => { await pg?.stop(); });

  it('serves version 15 on loopback with durability at its defaults, as a user other than root', async () => {
    expect(pg.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/agentic$/);
    expect(await psql(pg.url, 'SHOW server_version_num')).toMatch(/^15\d{4}$/);
    expect(await psql(pg.url, 'SHOW listen_addresses')).toBe('127.0.0.1');
    expect(await psql(pg.url, 'SHOW fsync')).toBe('on');
    expect(await psql(pg.url, 'SHOW synchronous_commit')).toBe('on');
    expect(await psql(pg.url, 'SELECT current_database()')).toBe('agentic');
    // the server does not run as root. Ask for the checkpointer, which lives as long as the server:
    // the backend of a psql connection exits with it, so its /proc entry may already be gone (CI saw ENOENT)
    const pid = await psql(pg.url, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
    expect(pid).toMatch(/^\d+$/);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+[1-9]\d*\s/m);
  });

  it('restart() keeps the data and the port; stop() removes the directory', async () => {
    await psql(pg.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await pg.restart();
    expect(await psql(pg.url, 'SELECT n FROM kept')).toBe('42');
    const other = await pg.createDatabase('second');
    expect(await psql(other, 'SELECT current_database()')).toBe('second');
    await pg.stop();
    expect(existsSync(pg.dir)).toBe(false);
    await pg.stop(); // idempotent
  });
});
