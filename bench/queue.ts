/**
 * Durable queue throughput (submit → take → complete, every step one SQLite
 * transaction with synchronous=FULL) and checkpoint write latency.
 *
 *   npx tsx bench/queue.ts [tasks=2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TaskQueue } from '../src/queue/TaskQueue.js';
import { CheckpointStore } from '../src/store/CheckpointStore.js';
import { openDatabase } from '../src/store/Database.js';

const N = Number(process.argv[2] ?? 2000);
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-queue-'));
const db = openDatabase(path.join(tmp, 'state.db'));
const q = new TaskQueue(db, { maxDepth: 1e7, maxAttempts: 3, historyRetention: 1e7 });
const trace = 'a'.repeat(32);

let t = performance.now();
for (let i = 0; i < N; i++) q.submit({ role: 'r', title: `t${i}`, priority: 1 + (i % 10), correlation_id: trace });
const submitMs = performance.now() - t;
t = performance.now();
for (let i = 0; i < N; i++) {
  const task = q.take('r', 'r-0');
  if (!task) throw new Error('queue ran dry');
  q.complete(task.id, { ok: true });
}
const cycleMs = performance.now() - t;
console.log(`queue (${N} tasks, WAL, synchronous=FULL): submit ${(N / (submitMs / 1000)).toFixed(0)}/s; take+complete ${(N / (cycleMs / 1000)).toFixed(0)}/s; full cycle ${(N / ((submitMs + cycleMs) / 1000)).toFixed(0)} tasks/s`);

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
  console.log(`checkpoint write ${size / 1024} KiB: median ${lat[150]?.toFixed(3)} ms, p99 ${lat[297]?.toFixed(3)} ms`);
}
db.close();
rmSync(tmp, { recursive: true, force: true });
