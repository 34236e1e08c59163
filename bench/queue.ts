/**
 * Durable queue throughput: submit, then take + complete, every step one SQLite
 * transaction (WAL), with the CPU each task cost; and checkpoint write latency.
 * With `--baseline <tree>`, the same rounds run alternately against another
 * checkout's src/ (e.g. `git archive main src | tar -x -C .base`), and the
 * ratios ours / baseline are printed: the machine is shared, so compare ratios.
 *
 * `--sync FULL` sets that synchronous mode on both after opening (what each part of
 * the gain comes from).
 *
 * `--store` runs every round a second time through `sqliteQueueStore` (the async
 * QueueStore the supervisor calls since issue 19's wiring step), awaiting each call as
 * the supervisor does, and prints it as `ours+store`: the cost of the async interface
 * on the SQLite path.
 *
 *   npx tsx bench/queue.ts [tasks=2000] [--rounds 5] [--baseline .base] [--sync FULL|NORMAL] [--store]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CheckpointStore } from '../src/store/CheckpointStore.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const baseline = opt('--baseline');
const sync = opt('--sync');
const viaStore = args.includes('--store') ? (args.splice(args.indexOf('--store'), 1), true) : false;
const ROUNDS = Number(opt('--rounds') ?? (baseline ? 5 : 3));
const N = Number(args[0] ?? 2000);
const trace = 'a'.repeat(32);

interface Impl { name: string; TaskQueue: typeof import('../src/queue/TaskQueue.js').TaskQueue; openDatabase: typeof import('../src/store/Database.js').openDatabase }
const load = async (name: string, root: string): Promise<Impl> => ({
  name,
  TaskQueue: (await import(pathToFileURL(path.resolve(root, 'src/queue/TaskQueue.ts')).href) as typeof import('../src/queue/TaskQueue.js')).TaskQueue,
  openDatabase: (await import(pathToFileURL(path.resolve(root, 'src/store/Database.ts')).href) as typeof import('../src/store/Database.js')).openDatabase,
});
const impls = [await load('ours', path.resolve(import.meta.dirname, '..'))];
if (baseline) impls.unshift(await load('baseline', baseline));

interface Round { submit: number; cycle: number; full: number; cpuUs: number }
const { sqliteQueueStore } = await import('../src/queue/QueueStore.js');

/** The same round through the async QueueStore, each call awaited (as the supervisor calls it). */
async function storeRound(impl: Impl): Promise<Round> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-queue-'));
  const db = impl.openDatabase(path.join(tmp, 'state.db'));
  if (sync) db.exec(`PRAGMA synchronous = ${sync === 'FULL' ? 'FULL' : 'NORMAL'}`);
  const q = sqliteQueueStore(new impl.TaskQueue(db, { maxDepth: 1e7, maxAttempts: 3, historyRetention: 1e7 }));
  const c0 = process.cpuUsage();
  let t = performance.now();
  for (let i = 0; i < N; i++) await q.submit({ role: 'r', title: `t${i}`, priority: 1 + (i % 10), correlation_id: trace });
  const submitMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < N; i++) {
    const task = await q.take('r', 'r-0');
    if (!task) throw new Error('queue ran dry');
    await q.progress(task.id, 0.5, 'half way');
    await q.complete(task.id, { ok: true });
  }
  const cycleMs = performance.now() - t;
  const c = process.cpuUsage(c0);
  db.close();
  rmSync(tmp, { recursive: true, force: true });
  return { submit: N / (submitMs / 1000), cycle: N / (cycleMs / 1000), full: N / ((submitMs + cycleMs) / 1000), cpuUs: (c.user + c.system) / N };
}
function round(impl: Impl): Round {
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-queue-'));
  const db = impl.openDatabase(path.join(tmp, 'state.db'));
  if (sync) db.exec(`PRAGMA synchronous = ${sync === 'FULL' ? 'FULL' : 'NORMAL'}`);
  const q = new impl.TaskQueue(db, { maxDepth: 1e7, maxAttempts: 3, historyRetention: 1e7 });
  const c0 = process.cpuUsage();
  let t = performance.now();
  for (let i = 0; i < N; i++) q.submit({ role: 'r', title: `t${i}`, priority: 1 + (i % 10), correlation_id: trace });
  const submitMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < N; i++) {
    const task = q.take('r', 'r-0');
    if (!task) throw new Error('queue ran dry');
    q.progress(task.id, 0.5, 'half way');
    q.complete(task.id, { ok: true });
  }
  const cycleMs = performance.now() - t;
  const c = process.cpuUsage(c0);
  db.close();
  rmSync(tmp, { recursive: true, force: true });
  return { submit: N / (submitMs / 1000), cycle: N / (cycleMs / 1000), full: N / ((submitMs + cycleMs) / 1000), cpuUs: (c.user + c.system) / N };
}

const results = new Map<string, Round[]>(impls.map((i) => [i.name, []]));
const ours = impls.at(-1) as Impl;
if (viaStore) results.set('ours+store', []);
for (let r = 0; r < ROUNDS; r++) {
  for (const impl of impls) results.get(impl.name)?.push(round(impl));
  if (viaStore) results.get('ours+store')?.push(await storeRound(ours));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const med = (name: string, k: keyof Round) => median((results.get(name) ?? []).map((x) => x[k]));
const range = (name: string, k: keyof Round) => { const xs = (results.get(name) ?? []).map((x) => x[k]); return `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`; };
console.log(`queue, ${N} tasks × ${ROUNDS} rounds (WAL${sync ? `, synchronous=${sync} for both` : ''}; the step "take" includes one progress report): median (min–max)`);
for (const impl of [...impls, ...(viaStore ? [{ name: 'ours+store' }] : [])]) {
  console.log(`  ${impl.name.padEnd(10)} submit ${med(impl.name, 'submit').toFixed(0)}/s (${range(impl.name, 'submit')}); take+progress+complete ${med(impl.name, 'cycle').toFixed(0)}/s (${range(impl.name, 'cycle')}); full cycle ${med(impl.name, 'full').toFixed(0)} tasks/s (${range(impl.name, 'full')}); CPU ${med(impl.name, 'cpuUs').toFixed(0)} µs/task (${range(impl.name, 'cpuUs')})`);
}
if (viaStore) console.log(`  store/ours: full cycle ${(med('ours+store', 'full') / med('ours', 'full')).toFixed(2)}×, CPU per task ${(med('ours+store', 'cpuUs') / med('ours', 'cpuUs')).toFixed(2)}×`);
if (baseline) {
  console.log(`  ours/baseline: full cycle ${(med('ours', 'full') / med('baseline', 'full')).toFixed(2)}×, CPU per task ${(med('ours', 'cpuUs') / med('baseline', 'cpuUs')).toFixed(2)}×`);
}

const tmp = mkdtempSync(path.join(tmpdir(), 'bench-queue-'));
const db = impls.at(-1)!.openDatabase(path.join(tmp, 'state.db'));
const cp = new CheckpointStore(db, 1024 * 1024, 5);
for (const size of [1024, 64 * 1024]) {
  const state = { blob: 'x'.repeat(size) };
  const lat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    cp.put('slot-0', state);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  console.log(`checkpoint write ${size / 1024} KiB (ours): median ${lat[150]?.toFixed(3)} ms, p99 ${lat[297]?.toFixed(3)} ms`);
}
db.close();
rmSync(tmp, { recursive: true, force: true });
