/**
 * The queue on PostgreSQL against SQLite, in one run: tasks per second through submit,
 * then take + complete, on SQLite (one supervisor) and on a real PostgreSQL 15 (started by
 * the test harness in a temp directory, durability at its defaults) with one and with three
 * supervisors (PgTaskQueue instances, each with its own pool) taking concurrently. Then the
 * takeover: a real process holding tasks under leases of 1, 2, 5 and 10 s is SIGKILLed, and
 * the time until another supervisor has taken its tasks is measured from the kill. These
 * are the store's own figures (PgTaskQueue, TaskQueue), not a whole supervisor's.
 *
 *   npx tsx bench/queue-pg.ts [tasks=1000] [--rounds 3] [--leases 1000,2000,5000,10000] [--kills 3]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Lease lengths the takeover is measured at, ms (the PgTaskQueue default is 30 000). */
const LEASES = (opt('--leases') ?? '1000,2000,5000,10000').split(',').map(Number);
const TAKEOVER_ROUNDS = Number(opt('--kills') ?? 3);
const TAKEOVER_TASKS = 10;
const POLL_MS = 250;
const HOLDER = fileURLToPath(new URL('./fixtures/pg-lease-holder.ts', import.meta.url));

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

/**
 * A supervisor's death to its tasks being taken by another: a real process (the fixture)
 * takes TAKEOVER_TASKS tasks with `leaseMs` leases and renews them every leaseMs / 3; it is
 * SIGKILLed at a random moment of its renewal cycle; another PgTaskQueue calls take() every
 * POLL_MS (the takeover happens in take(): no NOTIFY fires when a lease runs out). Returns
 * the ms from the kill to the first and to the last of its tasks taken over, having
 * checked that none was taken before the kill (the renewals held) and that every taken-over
 * attempt ended as supervisor_lost.
 */
async function takeover(db: PgDatabase, leaseMs: number): Promise<{ first: number; last: number }> {
  await db.pool.query('TRUNCATE tasks, task_attempts, task_retries RESTART IDENTITY CASCADE');
  const live = new PgTaskQueue(db.pool, { ...base, supervisorId: 'live' });
  for (let i = 0; i < TAKEOVER_TASKS; i++) await live.submit(input(i));
  const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, url, String(leaseMs), String(TAKEOVER_TASKS), `dead-${leaseMs}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (d) => { out += String(d); if (out.includes(`holding ${TAKEOVER_TASKS}`)) resolve(); });
    holder.on('exit', (code) => reject(new Error(`the lease holder exited (${code}) before holding its tasks: ${out}`)));
  });
  // Past its first lease (so renewals are what keep the tasks), at a random point of the renewal cycle.
  await sleep(leaseMs + Math.random() * (leaseMs / 3));
  if (await live.take('w', 'w-early')) throw new Error('a task was taken while its holder was alive: the renewals did not hold the lease');
  const exited = new Promise((r) => holder.once('exit', r));
  holder.kill('SIGKILL');
  const killedAt = performance.now();
  await exited;
  const times: number[] = [];
  while (times.length < TAKEOVER_TASKS) {
    while (await live.take('w', 'w-live')) times.push(performance.now() - killedAt);
    if (times.length < TAKEOVER_TASKS) await sleep(POLL_MS);
  }
  const { rows: [c] } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM task_attempts WHERE n = 1 AND cause = 'supervisor_lost'");
  if (c?.n !== TAKEOVER_TASKS) throw new Error(`expected ${TAKEOVER_TASKS} first attempts ended as supervisor_lost, found ${c?.n}`);
  return { first: Math.min(...times), last: Math.max(...times) };
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
  console.log(`takeover: a supervisor process holding ${TAKEOVER_TASKS} tasks SIGKILLed; another takes them (take() every ${POLL_MS} ms); ms from the kill, ${TAKEOVER_ROUNDS} kills per lease:`);
  for (const leaseMs of LEASES) {
    const firsts: number[] = [];
    const lasts: number[] = [];
    for (let i = 0; i < TAKEOVER_ROUNDS; i++) {
      const t = await takeover(db, leaseMs);
      firsts.push(t.first);
      lasts.push(t.last);
    }
    console.log(`  lease ${(leaseMs / 1000).toString().padStart(3)} s   first task ${median(firsts).toFixed(0).padStart(6)} (${Math.min(...firsts).toFixed(0)}–${Math.max(...firsts).toFixed(0)})   all ${TAKEOVER_TASKS} ${median(lasts).toFixed(0).padStart(6)} (${Math.min(...lasts).toFixed(0)}–${Math.max(...lasts).toFixed(0)})   = ${(median(lasts) / leaseMs).toFixed(2)} × lease`);
  }
  await db.close();
} finally {
  await server.stop();
}
