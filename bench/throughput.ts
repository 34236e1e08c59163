/**
 * End-to-end task throughput through real agent processes: submit → assign over
 * the protocol → task.finished → ack in SQLite, with no-op agents (work_ms 0).
 *
 *   npx tsx bench/throughput.ts [tasks=2000] [replicas=4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/loadConfig.js';
import { StateDir } from '../src/supervisor/StateDir.js';
import { Supervisor } from '../src/supervisor/Supervisor.js';

const N = Number(process.argv[2] ?? 2000);
const REPLICAS = Number(process.argv[3] ?? 4);
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-tp-'));
const worker = path.resolve(import.meta.dirname, '../test/fixtures/agents/worker.mjs');
const config = parseConfig({ background: { state_dir: path.join(tmp, 'state'), queue: { max_depth: N + 1 }, agents: [{ name: 'w', command: [process.execPath, worker], replicas: REPLICAS }] } });
const dir = new StateDir(config.background.state_dir);
dir.ensure();
const sup = new Supervisor(config, { stateDir: dir, logger: pino({ level: 'silent' }) });
await sup.start();
await new Promise<void>((r) => { const t = setInterval(() => { if (sup.replicas.every((x) => x.isIdle)) { clearInterval(t); r(); } }, 20); });
let done = 0;
const finished = new Promise<void>((r) => sup.on('taskFinished', () => { if (++done === N) r(); }));
const t0 = performance.now();
for (let i = 0; i < N; i++) sup.submit({ role: 'w', title: `t${i}`, payload: { work_ms: 0 } });
const submitted = performance.now();
await finished;
const ms = performance.now() - t0;
console.log(`throughput: ${N} tasks through ${REPLICAS} no-op agents in ${(ms / 1000).toFixed(2)} s = ${(N / (ms / 1000)).toFixed(0)} tasks/s (submit phase ${(submitted - t0).toFixed(0)} ms)`);
await sup.stop();
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
