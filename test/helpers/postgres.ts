import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './realPrometheus.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 (`apt-get install postgresql`); `AGENTIC_PG_BIN` points elsewhere. */
export const PG_BIN = process.env.AGENTIC_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** The unprivileged account the server runs as when the tests run as root (initdb and postgres refuse root). */
const NOBODY = { uid: 65534, gid: 65534 };

export interface RealPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/agentic` (trust authentication on loopback). */
  url: string;
  port: number;
  /** The data directory (also the unix socket directory). */
  dir: string;
  /** A URL for another database of this server (created with `createDatabase`). */
  urlOf(database: string): string;
  /** Creates a database on this server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Restarts the server on the same port and directory (`pg_ctl restart -m fast`): connections are dropped. */
  restart(): Promise<void>;
  /** Stops the server (`pg_ctl stop -m fast`) and keeps its directory: the database is down until `resume()`. */
  pause(): Promise<void>;
  /** Starts a paused server again, on the same port and directory. */
  resume(): Promise<void>;
  /** The server's log so far. */
  log(): string;
  /** Stops the server (`pg_ctl stop -m fast`) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL 15 for one test file: `initdb` into a temporary directory, then
 * `pg_ctl start` on a free loopback port (`listen_addresses=127.0.0.1`, the unix
 * socket in that directory, every durability setting at its default: fsync on,
 * synchronous_commit on), and a database `agentic` created in it.
 *
 * When the tests run as root (CI does), initdb and postgres refuse to run: the
 * directory is then given to `nobody` (uid/gid 65534) and both run as that user
 * through `setpriv --reuid --regid --clear-groups`. The test process connects over
 * TCP with trust authentication, so it needs no access to the directory.
 *
 * A missing binary is an error that says what to install: these tests never skip.
 */
export async function startPostgres(): Promise<RealPostgres> {
  for (const bin of ['initdb', 'pg_ctl', 'postgres', 'createdb']) {
    if (!existsSync(path.join(PG_BIN, bin))) throw new Error(`PostgreSQL 15 is needed for these tests but ${path.join(PG_BIN, bin)} is missing: apt-get install postgresql (or set AGENTIC_PG_BIN to its bin directory)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, NOBODY.uid, NOBODY.gid);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  /** Runs a PostgreSQL binary as the server's owner. */
  const pg = (bin: string, args: string[]) => asRoot
    ? run('setpriv', [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', path.join(PG_BIN, bin), ...args], { cwd: dir })
    : run(path.join(PG_BIN, bin), args, { cwd: dir });
  let stopped = false;
  let port = 0;
  try {
    await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    // A free port can be taken between the probe and the server's bind: try a few.
    for (let tries = 0; ; tries++) {
      port = await freePort();
      try {
        await pg('pg_ctl', ['start', '-w', '-t', '120', '-D', data, '-l', logFile,
          '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200`]);
        break;
      } catch (err) {
        if (tries >= 2) throw err;
      }
    }
    await run(path.join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'agentic']);
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    await pg('pg_ctl', ['stop', '-m', 'immediate', '-D', data]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL in ${dir}: ${(err as Error).message}\n${log}`);
  }
  const urlOf = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    url: urlOf('agentic'),
    port,
    dir,
    urlOf,
    async createDatabase(name) {
      await run(path.join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name]);
      return urlOf(name);
    },
    async restart() {
      await pg('pg_ctl', ['restart', '-w', '-t', '120', '-m', 'fast', '-D', data, '-l', logFile,
        '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200`]);
    },
    async pause() {
      await pg('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]);
    },
    async resume() {
      await pg('pg_ctl', ['start', '-w', '-t', '120', '-D', data, '-l', logFile,
        '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200`]);
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]).catch(() => pg('pg_ctl', ['stop', '-m', 'immediate', '-D', data]).catch(() => undefined));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
