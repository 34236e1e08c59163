/**
 * Hung per_task run → killed and re-queued: a fake `claude -p` that hangs after its
 * init line (test/fixtures/claude/hang-after-init.mjs, with a grandchild in its
 * process group) is run under task_timeout 1.5 s, again and again (the task is
 * retried). For each run it measures, from the moment the RunPolicy ends it
 * (state `stopping`, cause timeout):
 *   - until the leader process has exited,
 *   - until the task is pending again (the queue updated, the slot free), by which
 *     time the whole process group must be gone (checked in /proc, every run).
 * Twice: a run that obeys SIGTERM, and one that ignores it (SIGKILL after stop_timeout).
 *
 *   npx tsx bench/per-task-timeout.ts [runs=30]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/loadConfig.js';
import { pidsInGroup } from '../src/supervisor/procfs.js';
import { StateDir } from '../src/supervisor/StateDir.js';
import { Supervisor } from '../src/supervisor/Supervisor.js';

const RUNS = Number(process.argv[2] ?? 30);
const HANG = path.resolve(import.meta.dirname, '../test/fixtures/claude/hang-after-init.mjs');
const STOP_TIMEOUT_S = 0.5;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return { median: q(0.5), p95: q(0.95), min: s[0] as number, max: s[s.length - 1] as number };
};
const fmt = (x: ReturnType<typeof stats>) => `median ${x.median.toFixed(1)} ms, p95 ${x.p95.toFixed(1)} ms (min ${x.min.toFixed(1)}, max ${x.max.toFixed(1)})`;

async function measure(ignoreSigterm: boolean): Promise<{ exit: number[]; requeued: number[]; leftBehind: number; killed: number }> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-per-task-'));
  const stateDir = path.join(tmp, 'state');
  const config = parseConfig({
    background: {
      state_dir: stateDir,
      queue: { max_attempts: 1000 },
      agents: [{
        name: 'claude', mode: 'per_task', command: [process.execPath, HANG, '-p', '{prompt}'], stdout_adapter: 'claude-stream-json',
        task_timeout: 1.5, stop_timeout: STOP_TIMEOUT_S, resume_args: [], env: { IGNORE_SIGTERM: ignoreSigterm ? '1' : '0', CLAUDE_FIXTURE_MARKER: 'bench-per-task-grandchild' },
      }],
    },
  });
  const dir = new StateDir(stateDir);
  dir.ensure();
  const sup = new Supervisor(config, { stateDir: dir, logger: pino({ level: 'silent' }) });
  await sup.start();
  const exit: number[] = [];
  const requeued: number[] = [];
  let leftBehind = 0;
  let killed = 0;
  let stoppingAt = 0;
  let pid = 0;
  const done = new Promise<void>((resolve) => {
    sup.perTask[0]?.on('started', (run) => {
      run.on('state', (s) => {
        if (s.kind === 'stopping' && !s.killed && s.reason.cause === 'timeout') { stoppingAt = performance.now(); pid = run.proc.pid ?? 0; }
      });
      run.proc.once('exit', () => { if (stoppingAt) exit.push(performance.now() - stoppingAt); });
      run.once('exited', (e) => { if (e.killed) killed++; });
    });
    sup.on('taskFinished', (e) => {
      if (e.outcome !== 'failed' || !stoppingAt) return;
      requeued.push(performance.now() - stoppingAt);
      void sup.queue.get(e.task.id).then((t) => { if (t?.status !== 'pending') throw new Error(`task not pending after its run ended: ${t?.status}`); });
      if (pidsInGroup(pid).length > 0) leftBehind++;
      stoppingAt = 0;
      if (requeued.length >= RUNS) resolve();
    });
  });
  const task = await sup.submit({ role: 'claude', title: 'hangs', prompt: 'a story that hangs' });
  await done;
  await sup.cancel(task.id);
  await sup.stop();
  rmSync(tmp, { recursive: true, force: true });
  return { exit, requeued, leftBehind, killed };
}

console.log(`per_task timeout → process gone → task re-queued, ${RUNS} runs each (task_timeout 1.5 s, stop_timeout ${STOP_TIMEOUT_S} s), node ${process.version}`);
for (const ignore of [false, true]) {
  const r = await measure(ignore);
  const what = ignore ? `ignores SIGTERM (SIGKILL after stop_timeout ${STOP_TIMEOUT_S * 1000} ms)` : 'obeys SIGTERM';
  console.log(`\nrun ${what}:`);
  console.log(`  timeout → leader exited:      ${fmt(stats(r.exit))}`);
  console.log(`  timeout → task pending again: ${fmt(stats(r.requeued))}`);
  if (ignore) console.log(`  … less stop_timeout:          ${fmt(stats(r.requeued.map((x) => x - STOP_TIMEOUT_S * 1000)))}`);
  console.log(`  runs that needed SIGKILL: ${r.killed}/${r.requeued.length}; with a process of the group left when the task was re-queued: ${r.leftBehind}`);
}
