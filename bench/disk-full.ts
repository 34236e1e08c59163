/**
 * A full disk, for real: the state directory on a 20 MB tmpfs, a supervisor with
 * two protocol workers and a chatty agent, tasks submitted at a steady rate before,
 * during and after the disk is filled to the last byte. Prints what was
 * acknowledged and refused, the supervisor's RSS and CPU in each phase, how a
 * SIGKILLed agent fared while full, and how long recovery took once space came
 * back. Needs root (mount). Loopback only, bounded (about a minute by default).
 *
 *   npm run build && npx tsx bench/disk-full.ts [full_seconds=30] [submits_per_second=20]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, killAll, processesWith, startSupervisor, waitFor, type RunningSupervisor } from '../test/helpers/harness.js';
import { availBytes, fillDisk, freeDisk, mountTmpfs, unmount } from '../test/helpers/tmpfs.js';

const FULL_SECONDS = Number(process.argv[2] ?? 30);
const RATE = Math.min(200, Number(process.argv[3] ?? 20));
const BEFORE_SECONDS = 5;
const MARK = `bench-disk-${randomBytes(4).toString('hex')}`;

interface Phase { name: string; acked: number; refused507: number; other: Map<number, number>; cpuTicks: number; wallMs: number; rss: number[] }
const newPhase = (name: string): Phase => ({ name, acked: 0, refused507: 0, other: new Map(), cpuTicks: 0, wallMs: 0, rss: [] });

const statOf = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const r = f.slice(f.lastIndexOf(')') + 2).split(' '); return Number(r[11]) + Number(r[12]); };
const rssOf = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const counter = (text: string, name: string, agent: string) => Number(new RegExp(`^${name}\\{agent="${agent}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sup: RunningSupervisor | undefined;
let stateDir: string | undefined;
let topUp: NodeJS.Timeout | undefined;
const acked: string[] = [];

try {
  sup = await startSupervisor({
    logging: { max_file_size_mb: 1, max_files: 2, max_total_size_mb: 6 },
    monitoring: { check_interval: 1, sample_interval: 1 },
    agents: [
      { name: 'w', command: ['node', path.join(ROOT, 'test/fixtures/agents/worker.mjs'), MARK], replicas: 2 },
      { name: 'chatty', command: ['node', path.join(ROOT, 'test/fixtures/agents/chatty.mjs'), MARK], env: { CHATTY_TICK_MS: '10', CHATTY_LINES_PER_TICK: '5' } },
    ],
  }, { beforeStart: (p) => { stateDir = p.stateDir; mountTmpfs(p.stateDir, '20m'); } });
  const s = sup;
  const pid = s.proc.pid as number;
  const metrics = async () => (await fetch(`${s.url}/metrics`)).text();
  const submit = async (title: string) => {
    const r = await s.api<{ task?: { id: string } }>('POST', '/api/v1/tasks', { role: 'w', title, payload: { work_ms: 20 } });
    if (r.status === 201) acked.push(r.body.task!.id);
    return r.status;
  };

  /** Submits at RATE for `seconds`, sampling the supervisor's CPU and RSS. */
  const run = async (phase: Phase, seconds: number, during?: (elapsedMs: number) => Promise<void>) => {
    const t0 = Date.now();
    const c0 = statOf(pid);
    let next = t0;
    let i = 0;
    let hook = during;
    while (Date.now() - t0 < seconds * 1000) {
      const status = await submit(`${phase.name} ${i++}`);
      if (status === 201) phase.acked++;
      else if (status === 507) phase.refused507++;
      else phase.other.set(status, (phase.other.get(status) ?? 0) + 1);
      if (i % Math.max(1, Math.round(RATE / 2)) === 0) phase.rss.push(rssOf(pid));
      if (hook && Date.now() - t0 > (seconds * 1000) / 2) { const h = hook; hook = undefined; await h(Date.now() - t0); }
      next += 1000 / RATE;
      await sleep(Math.max(0, next - Date.now()));
    }
    phase.cpuTicks = statOf(pid) - c0;
    phase.wallMs = Date.now() - t0;
  };

  const before = newPhase('before');
  await run(before, BEFORE_SECONDS);

  const filler = path.join(s.stateDir, 'filler');
  fillDisk(filler);
  topUp = setInterval(() => fillDisk(filler), 100);
  const m0 = await metrics();
  const full = newPhase('full');
  let restart = 'not measured';
  await run(full, FULL_SECONDS, async () => {
    const agents = async () => (await s.api<{ agents: { replica: string; pid: number; state: string }[] }>('GET', '/api/v1/agents')).body.agents;
    const w0 = (await agents()).find((a) => a.replica === 'w-0');
    if (!w0) return;
    const k0 = performance.now();
    process.kill(w0.pid, 'SIGKILL');
    await waitFor('w-0 restarted', async () => (await agents()).some((a) => a.replica === 'w-0' && a.state === 'running' && a.pid !== w0.pid), 20_000, 20);
    restart = `${(performance.now() - k0).toFixed(0)} ms`;
  });
  const m1 = await metrics();
  const health = (await s.api<{ system: { verdict: string } }>('GET', '/api/v1/health')).body.system.verdict;

  clearInterval(topUp);
  freeDisk(filler);
  const freed = performance.now();
  let submitBack = NaN;
  for (let i = 0; Number.isNaN(submitBack) && performance.now() - freed < 60_000; i++) {
    if ((await submit(`after ${i}`)) === 201) submitBack = performance.now() - freed;
    else await sleep(20);
  }
  const written0 = counter(await metrics(), 'agentic_log_lines_written_total', 'chatty');
  await waitFor('chatty lines written again', async () => counter(await metrics(), 'agentic_log_lines_written_total', 'chatty') > written0, 60_000, 20);
  const logsBack = performance.now() - freed;
  await waitFor('every acknowledged task completed', async () => {
    const done = await Promise.all(acked.map(async (id) => (await s.api<{ task?: { status: string } }>('GET', `/api/v1/tasks/${id}`)).body.task?.status));
    return done.every((x) => x === 'completed');
  }, 120_000, 200);
  const allDone = performance.now() - freed;
  const after = newPhase('after');
  await run(after, BEFORE_SECONDS);

  const phaseLine = (p: Phase) => {
    const other = [...p.other].map(([c, n]) => `${n}×${c}`).join(', ') || 'none';
    return `| ${p.name} | ${(p.wallMs / 1000).toFixed(1)} s | ${p.acked} | ${p.refused507} | ${other} | ${((p.cpuTicks / 100 / (p.wallMs / 1000)) * 100).toFixed(1)} % | ${mb(Math.min(...p.rss))}–${mb(Math.max(...p.rss))} MB |`;
  };
  console.log(`disk-full run: 20 MB tmpfs state dir, 2 worker replicas + 1 chatty agent (about 500 lines/s), submits at ${RATE}/s`);
  console.log('| phase | wall | acknowledged (201) | refused (507) | other answers | supervisor CPU (one core) | supervisor RSS |');
  console.log('|---|---|---|---|---|---|---|');
  for (const p of [before, full, after]) console.log(phaseLine(p));
  console.log(`while full: system health ${health}; chatty log lines dropped ${counter(m1, 'agentic_log_lines_dropped_total', 'chatty') - counter(m0, 'agentic_log_lines_dropped_total', 'chatty')}, written ${counter(m1, 'agentic_log_lines_written_total', 'chatty') - counter(m0, 'agentic_log_lines_written_total', 'chatty')}; SIGKILLed w-0 running again after ${restart}`);
  console.log(`after freeing the space: first submission accepted after ${submitBack.toFixed(0)} ms, chatty log lines written again after ${logsBack.toFixed(0)} ms, all ${acked.length} acknowledged tasks completed after ${allDone.toFixed(0)} ms (none lost)`);
  const code = await s.stop();
  if (code !== 0) console.log(`supervisor exit code ${code}`);
} finally {
  clearInterval(topUp);
  if (sup) killAll(sup);
  for (const p of processesWith(MARK)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  if (stateDir) {
    if (availBytes(stateDir) === 0) freeDisk(path.join(stateDir, 'filler'));
    unmount(stateDir);
  }
  if (sup) rmSync(sup.dir, { recursive: true, force: true });
}
