/**
 * The cost and the speed of the health checks:
 * 1. supervisor CPU and RSS while monitoring 50 idle agents at a 1 s sampling
 *    interval (target: under 2% of one core): with the checks off, with the
 *    default check_interval (30 s) and with check_interval 1 s;
 * 2. the time of one sampling round (the process-tree walk and batched pidusage
 *    call of ResourceSampler, then every per-sample and per-round check over all
 *    agents, with full leak windows) for 10, 50 and 200 agents;
 * 3. the detection latency of each injected fault against its configured bound
 *    (the scenarios of test/integration/health-faults.test.ts).
 *
 *   npm run build && npx tsx bench/health-sampling.ts [idle-seconds=60] [--no-idle] [--no-sampling] [--no-faults] [--repeat N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createChecks } from '../src/health/createChecks.js';
import type { Target } from '../src/health/Target.js';
import type { CheckContext } from '../src/health/types.js';
import { ResourceSampler } from '../src/supervisor/ResourceSampler.js';
import { FAULTS, MONITORING, SLOW_ROUNDS, faultStart, fixtureAgent, raisedAt, type FaultSpec } from '../test/fixtures/health/faults.js';
import { cleanup, startSupervisor, waitFor } from '../test/helpers/harness.js';
import { bgConfig, detect, refusedPort, target } from '../test/helpers/health.js';

const IDLE_SECONDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 60);
const ROUNDS = 30;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function idleOverhead(label: string, monitoring: Record<string, unknown>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-health-'));
  const agents = Array.from({ length: 50 }, (_, i) => ({ ...fixtureAgent(`idle${i}`, 'healthy', path.join(dir, 'f')), heartbeat_interval: 5 }));
  const sup = await startSupervisor({ monitoring, agents });
  const pid = sup.proc.pid as number;
  const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const r = f.slice(f.lastIndexOf(')') + 2).split(' '); return Number(r[11]) + Number(r[12]); };
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
  await waitFor('50 agents healthy', async () => {
    const r = await sup.api<{ system: { verdict: string; replicas: { up: number } } }>('GET', '/api/v1/health');
    return r.body.system.replicas.up === 50 && (r.body.system.verdict === 'healthy' || monitoring.enabled === false);
  }, 120_000, 500);
  await sleep(5000);
  const t0 = ticks();
  const w0 = Date.now();
  const samples: number[] = [];
  while (Date.now() - w0 < IDLE_SECONDS * 1000) {
    samples.push(rss());
    await sleep(1000);
  }
  const cpu = ((ticks() - t0) / 100 / ((Date.now() - w0) / 1000)) * 100;
  const health = await sup.api<{ system: { verdict: string } }>('GET', '/api/v1/health');
  const fds = readdirSync(`/proc/${pid}/fd`).length; // steady since the sampler stopped leaking one per process per round
  cleanup(sup);
  rmSync(dir, { recursive: true, force: true });
  const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
  console.log(`idle, 50 agents, ${label}, ${IDLE_SECONDS} s: supervisor CPU ${cpu.toFixed(2)}% of one core (target < 2%); RSS start ${mb(samples[0] as number)} MB, end ${mb(samples.at(-1) as number)} MB, max ${mb(Math.max(...samples))} MB; verdict ${health.body.system.verdict}; open fds ${fds}; host processes ${readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length}`);
}

async function samplingRound(n: number): Promise<void> {
  const procs: ChildProcess[] = Array.from({ length: n }, () => spawn('sleep', ['600'], { stdio: 'ignore' }));
  await sleep(300);
  const bg = bgConfig({ monitoring: { sample_interval: 5, check_interval: 5 } });
  const checks = createChecks(bg).filter((c) => c.name !== 'agent_response' && c.name !== 'connectivity'); // network waits, not CPU
  const sampler = new ResourceSampler();
  const pids = procs.map((p) => p.pid as number);
  // Full leak windows: 3 × 300 s of history at 5 s per sample, on a fake clock ending now.
  const now = Date.now();
  const task = { id: 'STORY_1', startedAt: now - 60_000, lastProgressAt: now - 1000, progress: 0.5, message: null };
  const targets: Target[] = pids.map((pid, i) => target(now - 1_000_000, { id: `a${i}-0`, pid, incarnation: `${pid}`, task }));
  for (let t = now - 900_000; t < now; t += 5000) {
    const ctx: CheckContext = { now: t, procState: () => 'S', sample: () => ({ at: t, cpuPercent: 1, rssBytes: 50e6 + (t % 7) * 1e5, processes: 1 }), sampleIntervalMs: 5000 };
    for (const c of checks) c.observe?.(targets, ctx);
  }
  const sampleMs: number[] = [];
  const perCheck = new Map<string, number[]>(checks.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS + 5; round++) {
    const t0 = performance.now();
    const samples = await sampler.sample(pids);
    sampleMs.push(performance.now() - t0);
    const at = Date.now() + round * 5000; // memory_leaks judges a series at most every window / 60 = 5 s: step past it
    const ctx: CheckContext = { now: at, procState: () => 'S', sample: (pid) => (pid === undefined ? undefined : samples.get(pid)), sampleIntervalMs: 5000 };
    for (const c of checks) {
      const t = performance.now();
      c.observe?.(targets, ctx);
      for (const tg of targets) await c.evaluate(tg, ctx);
      perCheck.get(c.name)!.push(performance.now() - t);
    }
    await sleep(100);
  }
  for (const p of procs) p.kill('SIGKILL');
  const rounds = sampler.treeRounds;
  sampler.close();
  const s = median(sampleMs.slice(5));
  const parts = [...perCheck].map(([name, ms]) => [name, median(ms.slice(5))] as const);
  const c = parts.reduce((a, [, ms]) => a + ms, 0);
  console.log(`sampling round, ${String(n).padStart(3)} agents: ResourceSampler ${s.toFixed(1)} ms + checks ${c.toFixed(1)} ms (${parts.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}) = ${(s + c).toFixed(1)} ms (median of ${ROUNDS}; trees: ${rounds.walks} walks, ${rounds.incremental} incremental rounds)`);
}

/** Runs of the fault scenarios (`--repeat N`, default 1): the table gives each fault's range and worst case against its bound. */
const REPEAT = Number(process.argv[process.argv.indexOf('--repeat') + 1] ?? 1) || 1;

async function faultLatencies(): Promise<void> {
  const port = await refusedPort();
  const groups: { faults: FaultSpec[]; monitoring: typeof MONITORING }[] = [
    { faults: [FAULTS.crash!, FAULTS.hang!, FAULTS.blocked_loop!, FAULTS.slow_task!, FAULTS.stale_task!, FAULTS.leak!, FAULTS.unreachable!], monitoring: MONITORING },
    { faults: [FAULTS.heartbeat_loss!], monitoring: SLOW_ROUNDS },
    { faults: [FAULTS.busy_loop!, FAULTS.cpu_burn!], monitoring: { ...MONITORING, health_checks: { ...MONITORING.health_checks, resource_usage: { ...MONITORING.health_checks.resource_usage, max_cpu_percent: 15 } } } },
  ];
  const seen = new Map<string, { f: FaultSpec; bound: number; first: number[]; raised: number[] }>();
  for (let run = 0; run < REPEAT; run++) {
    for (const { faults, monitoring } of groups) {
      const dir = mkdtempSync(path.join(tmpdir(), 'bench-faults-'));
      const faultFile = path.join(dir, 'faults.ndjson');
      const extra: Record<string, Record<string, unknown>> = { offline: { connectivity: [{ name: 'llm-api', url: `tcp://127.0.0.1:${port}` }] } };
      const sup = await startSupervisor({ monitoring, agents: [fixtureAgent('healthy', 'healthy', faultFile), ...faults.map((f) => fixtureAgent(f.agent, f.fault, faultFile, extra[f.agent]))] }, { readyTimeoutMs: 90_000 });
      const runs = faults.map(async (f) => {
        let injected: number | undefined;
        if (f.sigstop) {
          await sleep(1500);
          const r = await sup.api<{ agents: { pid: number | null }[] }>('GET', `/api/v1/health?agent=${f.agent}`);
          process.kill(r.body.agents[0]!.pid as number, 'SIGSTOP');
          injected = Date.now();
        }
        if (f.task) await sup.api('POST', '/api/v1/tasks', { role: f.agent, title: f.fault });
        try {
          const d = await detect(sup.api.bind(sup), f, () => injected ?? faultStart(faultFile, f.agent));
          const raised = (await waitFor('the finding in the log', () => raisedAt(sup.output(), f))) - d.faultAt;
          return { f, d, raised, bound: f.bound(monitoring) };
        } catch (err) {
          console.log(`${f.fault}: not detected in this run (${(err as Error).message})`);
          return undefined;
        }
      });
      const results = await Promise.all(runs).finally(() => cleanup(sup));
      for (const r of results) {
        if (!r) continue;
        const { f, d, raised, bound } = r;
        const e = seen.get(f.fault) ?? { f, bound, first: [], raised: [] };
        e.first.push(d.firstDetectionMs);
        e.raised.push(raised);
        seen.set(f.fault, e);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const range = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)} ms`;
  console.log(`fault detection, ${REPEAT} run(s) each: fault | check | first detection | severity raised | worst | bound | worst within bound?`);
  for (const { f, bound, first, raised } of seen.values()) {
    const worst = Math.max(...raised);
    console.log(`| ${f.fault} | ${f.check} → ${f.kind}${f.diagnosis ? ` (${f.diagnosis})` : ''} | ${range(first)} | ${range(raised)} (${f.severity}) | ${worst} ms | ${bound} ms: \`${f.boundText}\` | ${worst <= bound ? 'yes' : `no, +${worst - bound} ms`} |`);
  }
}

console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
if (!process.argv.includes('--no-idle')) {
  await idleOverhead('checks off (monitoring.enabled false), sample_interval 1 s', { enabled: false, sample_interval: 1 });
  await idleOverhead('sample_interval 1 s, check_interval 30 s (default)', { sample_interval: 1 });
  await idleOverhead('sample_interval 1 s, check_interval 1 s', { sample_interval: 1, check_interval: 1 });
}
if (!process.argv.includes('--no-sampling')) for (const n of [10, 50, 200]) await samplingRound(n);
if (!process.argv.includes('--no-faults')) await faultLatencies();
