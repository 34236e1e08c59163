/**
 * End-to-end task throughput through supervisors on SQLite and on PostgreSQL, in one run:
 * submit → take (a lease, on PostgreSQL) → assign over the protocol → task.finished →
 * complete, with no-op protocol agents (test/fixtures/agents/worker.mjs, work_ms 0).
 *
 *   1. SQLite, one supervisor with R replicas (the embedded default, the baseline);
 *   2. PostgreSQL, one supervisor with R replicas;
 *   3. PostgreSQL, three supervisors with R replicas each, sharing one backlog: the tasks
 *      are all submitted through the first, and every supervisor takes them.
 *
 * The supervisors run in this process (three `Supervisor` objects, each with its own state
 * directory and supervisor id, so each has its own pool, LISTEN connection and lease
 * timer); they share its event loop, so case 3 measures the database and the protocol, not
 * three machines' CPUs. The PostgreSQL is the test harness's (test/helpers/postgres.ts):
 * PostgreSQL 15 in a temporary directory on loopback, fsync and synchronous_commit on.
 *
 *   npm run build && npx tsx bench/fleet-throughput.ts [tasks=1000] [replicas=4] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/loadConfig.js';
import { StateDir } from '../src/supervisor/StateDir.js';
import { Supervisor } from '../src/supervisor/Supervisor.js';
import { startPostgres } from '../test/helpers/postgres.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const ROUNDS = Number(opt('--rounds') ?? 3);
const N = Number(args[0] ?? 1000);
const REPLICAS = Number(args[1] ?? 4);
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-fleet-'));
const worker = path.resolve(import.meta.dirname, '../test/fixtures/agents/worker.mjs');
const pgServer = await startPostgres();
let dbs = 0;
let agentNo = 0;

async function startOne(name: string, queue: Record<string, unknown>, pgUrl: string | undefined): Promise<Supervisor> {
  const config = parseConfig({ background: { state_dir: path.join(tmp, name), queue: { max_depth: N + 1, ...queue }, agents: [{ name: `w${++agentNo}`, role: 'w', command: [process.execPath, worker], replicas: REPLICAS }] } });
  const dir = new StateDir(config.background.state_dir);
  dir.ensure();
  const sup = new Supervisor(config, { stateDir: dir, logger: pino({ level: 'silent' }), pgUrl });
  await sup.start();
  await new Promise<void>((r) => { const t = setInterval(() => { if (sup.replicas.every((x) => x.isIdle)) { clearInterval(t); r(); } }, 20); });
  return sup;
}

/** Tasks per second from the first submit to the last completion, fleet-wide. */
async function run(label: string, supervisors: number, backend: 'sqlite' | 'postgres'): Promise<number> {
  const url = backend === 'postgres' ? await pgServer.createDatabase(`fleet${++dbs}`) : undefined;
  const queue = backend === 'postgres' ? { backend, postgres: { url_env: 'UNUSED_BENCH_URL' } } : {};
  const sups: Supervisor[] = [];
  for (let i = 0; i < supervisors; i++) sups.push(await startOne(`${label}-${dbs}-${i}`, queue, url));
  let done = 0;
  const finished = new Promise<void>((r) => { for (const s of sups) s.on('taskFinished', () => { if (++done === N) r(); }); });
  const first = sups[0] as Supervisor;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await first.submit({ role: 'w', title: `t${i}`, payload: { work_ms: 0 } });
  await finished;
  const rate = N / ((performance.now() - t0) / 1000);
  for (const s of sups) await s.stop();
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const cases: [string, number, 'sqlite' | 'postgres'][] = [['sqlite, 1 supervisor', 1, 'sqlite'], ['postgres, 1 supervisor', 1, 'postgres'], ['postgres, 3 supervisors', 3, 'postgres']];
const results = new Map<string, number[]>(cases.map(([l]) => [l, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [label, n, backend] of cases) results.get(label)?.push(await run(label.replaceAll(/[^a-z0-9]+/g, '-'), n, backend));
  }
  const base = median(results.get('sqlite, 1 supervisor') ?? [0]);
  console.log(`${N} tasks, ${REPLICAS} no-op agents per supervisor, ${ROUNDS} rounds, end to end (submit to the last completion), medians:`);
  for (const [label] of cases) {
    const xs = results.get(label) ?? [];
    const m = median(xs);
    console.log(`  ${label.padEnd(24)} ${m.toFixed(0).padStart(6)} tasks/s  (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})  = ${(m / base).toFixed(2)} × SQLite`);
  }
} finally {
  await pgServer.stop();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
