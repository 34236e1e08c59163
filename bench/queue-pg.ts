/**
 * The queue on PostgreSQL against SQLite: tasks per second through submit, then take +
 * complete, on SQLite (one supervisor) and on a real PostgreSQL 15 (started by the test
 * harness in a temp directory, durability at its defaults) with one and with three
 * supervisors (PgTaskQueue instances, each with its own pool) taking concurrently. Also the
 * time from a lease running out to another supervisor's take() getting the task, with the
 * taker polling every 50 ms. The supervisor does not use the PostgreSQL queue yet: these
 * are the store's own figures, not the supervisor's.
 *
 *   npx tsx bench/queue-pg.ts [tasks=1000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PgTaskQueue } from '../src/queue/pg/PgTaskQueue.js';
import { TaskQueue } from '../src/queue/TaskQueue.js';
import { openDatabase } from '../src/store/Database.js';
import { openPgDatabase, type PgDatabase } from '../src/store/pg/PgDatabase.js';
import { startPostgres } from '../test/helpers/postgres.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const ROUNDS = Number(opt('--rounds') ?? 3);
const N = Number(args[0] ?? 1000);
const base = { maxDepth: 1_000_000, maxAttempts: 3, historyRetention: 1_000_000 };
const input = (i: number) => ({ role: 'w', title: `t${i}`, correlation_id: 'a'.repeat(32) });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function sqliteRound(): { submit: number; cycle: number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-queue-pg-'));
  const db = openDatabase(path.join(dir, 'state.db'));
  const q = new TaskQueue(db, base);
  let t = performance.now();
  for (let i = 0; i < N; i++) q.submit(input(i));
  const submit = N / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let task = q.take('w', 'w-0'); task; task = q.take('w', 'w-0')) q.complete(task.id, 'ok');
  const cycle = N / ((performance.now() - t) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { submit, cycle };
}

async function pgRound(db: PgDatabase, supervisors: number): Promise<{ submit: number; cycle: number }> {
  await db.pool.query('TRUNCATE tasks, task_attempts, task_retries RESTART IDENTITY CASCADE');
  const dbs = [db, ...(await Promise.all(Array.from({ length: supervisors - 1 }, () => openPgDatabase(url, { max: 2 }))))];
  const qs = dbs.map((d, i) => new PgTaskQueue(d.pool, { ...base, supervisorId: `sup-${i}` }));
  let t = performance.now();
  // each supervisor submits its share, concurrently (one client each, as an API call would)
  await Promise.all(qs.map(async (q, k) => { for (let i = k; i < N; i += qs.length) await q.submit(input(i)); }));
  const submit = N / ((performance.now() - t) / 1000);
  t = performance.now();
  let done = 0;
  await Promise.all(qs.map(async (q) => { for (let task = await q.take('w', 'w-0'); task; task = await q.take('w', 'w-0')) { await q.complete(task.id, 'ok'); done++; } }));
  const cycle = N / ((performance.now() - t) / 1000);
  if (done !== N) throw new Error(`completed ${done} of ${N}`);
  await Promise.all(dbs.slice(1).map((d) => d.close()));
  return { submit, cycle };
}

async function takeover(db: PgDatabase): Promise<number> {
  await db.pool.query('TRUNCATE tasks, task_attempts, task_retries RESTART IDENTITY CASCADE');
  const a = new PgTaskQueue(db.pool, { ...base, supervisorId: 'dead', leaseMs: 1000 });
  const b = new PgTaskQueue(db.pool, { ...base, supervisorId: 'live' });
  await a.submit(input(0));
  const lease = (await a.take('w', 'w-0'))!.lease;
  for (;;) {
    const got = await b.take('w', 'w-1');
    if (got) {
      const { rows: [r] } = await db.pool.query<{ ms: number }>('SELECT (extract(epoch FROM clock_timestamp() - $1::timestamptz) * 1000)::float8 AS ms', [lease.expiresAt]);
      return r!.ms;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const server = await startPostgres();
const url = server.url;
try {
  const db = await openPgDatabase(url, { max: 2 });
  const rows: Record<string, { submit: number[]; cycle: number[] }> = {};
  const add = (name: string, r: { submit: number; cycle: number }) => {
    rows[name] ??= { submit: [], cycle: [] };
    rows[name].submit.push(r.submit);
    rows[name].cycle.push(r.cycle);
  };
  for (let round = 0; round < ROUNDS; round++) {
    add('sqlite, 1 supervisor', sqliteRound());
    add('postgres, 1 supervisor', await pgRound(db, 1));
    add('postgres, 3 supervisors', await pgRound(db, 3));
  }
  console.log(`${N} tasks, ${ROUNDS} rounds, medians (tasks/s):`);
  for (const [name, r] of Object.entries(rows)) console.log(`  ${name.padEnd(26)} submit ${median(r.submit).toFixed(0).padStart(6)}   take+complete ${median(r.cycle).toFixed(0).padStart(6)}`);
  const lags: number[] = [];
  for (let i = 0; i < 5; i++) lags.push(await takeover(db));
  console.log(`takeover: a dead supervisor's task taken ${median(lags).toFixed(0)} ms (median of 5; max ${Math.max(...lags).toFixed(0)} ms) after its 1 s lease ran out, taker polling every 50 ms`);
  await db.close();
} finally {
  await server.stop();
}
