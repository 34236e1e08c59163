/**
 * Crash → replacement ready: SIGKILL an agent and time until its replacement
 * reports ready, under our supervisor and under PM2 (defaults), beside a bare
 * spawn of the same script. The three are interleaved, one of each per round in
 * a rotating order, so a load spike on this shared machine hits them alike; the
 * ratios are medians of the per-round ratios (and the ratio of the medians).
 *
 *   npx tsx bench/restart-latency.ts [rounds=20] [--no-pm2] [--churn [n=2]]
 *
 * --churn [n]: before each of our kills, allocate until V8 has run n full GCs, so that
 * with the daemon's V8 options (--bytecode-old-age=1 --flush-baseline-code) the code
 * of the restart path is dropped first and the restart compiles it again, as after a
 * long quiet spell in a daemon. Run it both ways to see what that costs:
 *   node --max-semi-space-size=2 --bytecode-old-age=1 --flush-baseline-code --import tsx bench/restart-latency.ts 20 --no-pm2 --churn
 *   node --max-semi-space-size=2 --import tsx bench/restart-latency.ts 20 --no-pm2 --churn
 * and with V8's defaults past their five full GCs (`--churn 6`), where it drops the same code.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseConfig } from '../src/config/loadConfig.js';
import { StateDir } from '../src/supervisor/StateDir.js';
import { Supervisor } from '../src/supervisor/Supervisor.js';

const args = process.argv.slice(2);
const noPm2 = args.includes('--no-pm2');
// --churn [n]: n full GCs (default 2) before each of our kills.
const churnAt = args.indexOf('--churn');
const churn = churnAt >= 0 ? (/^\d+$/.test(args[churnAt + 1] ?? '') ? Number(args.splice(churnAt + 1, 1)[0]) : 2) : 0;
const RUNS = Number(args.find((a) => !a.startsWith('--')) ?? 20);
const AGENT = path.resolve(import.meta.dirname, 'fixtures/ready-agent.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-restart-'));
const sock = path.join(tmp, 'ready.sock');

/** A UNIX socket that resolves waiters with the pid of each "ready" line. */
const readyWaiters: ((pid: number) => void)[] = [];
const server = net.createServer((c) => {
  let b = '';
  c.on('data', (d) => (b += d));
  c.on('end', () => { const m = /ready (\d+)/.exec(b); if (m) readyWaiters.shift()?.(Number(m[1])); });
});
await new Promise<void>((r) => server.listen(sock, r));
const nextReady = () => new Promise<number>((resolve, reject) => {
  const t = setTimeout(() => reject(new Error('no ready within 10 s')), 10_000);
  readyWaiters.push((pid) => { clearTimeout(t); resolve(pid); });
});

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return { median: q(0.5), p95: q(0.95), min: s[0] as number, max: s[s.length - 1] as number };
};
const fmt = (x: { median: number; p95: number }) => `median ${x.median.toFixed(1)} ms, p95 ${x.p95.toFixed(1)} ms`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Our supervisor. stable_uptime is short and every round waits past it, so every
// kill is "the first crash of a stable agent": restarted at once.
const stateDir = path.join(tmp, 'state');
const config = parseConfig({ background: { state_dir: stateDir, monitoring: { recovery: { stable_uptime: 0.3, circuit_breaker_threshold: 1000 } }, agents: [{ name: 'bench', command: [process.execPath, AGENT], env: { READY_SOCKET: sock } }] } });
const dir = new StateDir(stateDir);
dir.ensure();
const sup = new Supervisor(config, { stateDir: dir, logger: pino({ level: 'silent' }) });
let ready = nextReady();
await sup.start();
let oursPid = await ready;

// PM2 with its defaults (restart_delay 0, exp backoff off), same script.
const pm2Bin = path.resolve(import.meta.dirname, '../node_modules/.bin/pm2');
const pm2env = { ...process.env, PM2_HOME: path.join(tmp, 'pm2'), READY_SOCKET: sock };
let pm2Pid: number | undefined;
if (!noPm2) {
  ready = nextReady();
  execFileSync(pm2Bin, ['start', AGENT, '--name', 'bench-agent'], { env: pm2env, stdio: 'ignore', timeout: 30_000 });
  pm2Pid = await ready;
}

const bare: number[] = [];
const ours: number[] = [];
const oursHello: number[] = [];
const pm2: number[] = [];
const ratios = { ours: [] as number[], oursHello: [] as number[], pm2: [] as number[], oursPm2: [] as number[] };

async function runBare(): Promise<number> {
  const t0 = performance.now();
  const r = nextReady();
  const p = spawn(process.execPath, [AGENT], { env: { ...process.env, READY_SOCKET: sock }, stdio: 'ignore' });
  await r;
  const ms = performance.now() - t0;
  p.kill('SIGKILL');
  return ms;
}
let majorGcs = 0;
if (churn) new PerformanceObserver((list) => { for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++; }).observe({ entryTypes: ['gc'] });
/** Allocates (and drops) arrays until V8 has run `n` more full GCs of its own accord, or 10 s have passed. */
async function fullGcs(n: number): Promise<void> {
  const until = majorGcs + n;
  const deadline = Date.now() + 10_000;
  while (majorGcs < until && Date.now() < deadline) {
    let keep: number[][] = [];
    for (let r = 0; r < 20; r++) { keep.push(new Array<number>(200_000).fill(r)); if (keep.length > 10) keep = []; }
    keep = [];
    await new Promise((res) => setImmediate(res));
  }
}
async function runOurs(): Promise<[hello: number, ready: number]> {
  if (churn) await fullGcs(churn);
  const r = nextReady();
  const hello = new Promise<void>((res) => { const on = ({ message }: { message: { type: string } }) => { if (message.type === 'hello') { sup.off('message', on); res(); } }; sup.on('message', on); });
  const t0 = performance.now();
  process.kill(oursPid, 'SIGKILL');
  await hello;
  const h = performance.now() - t0;
  oursPid = await r;
  return [h, performance.now() - t0];
}
async function runPm2(): Promise<number> {
  const r = nextReady();
  const t0 = performance.now();
  process.kill(pm2Pid as number, 'SIGKILL');
  pm2Pid = await r;
  return performance.now() - t0;
}

try {
  for (let i = 0; i < RUNS; i++) {
    await sleep(1100); // past PM2's min_uptime (1 s) and our stable_uptime: never an unstable restart
    let b = 0, o = 0, h = 0, p = 0;
    const steps: (() => Promise<void>)[] = [
      async () => { b = await runBare(); },
      async () => { [h, o] = await runOurs(); },
      ...(noPm2 ? [] : [async () => { p = await runPm2(); }]),
    ];
    for (let k = 0; k < steps.length; k++) { await (steps[(i + k) % steps.length] as () => Promise<void>)(); await sleep(50); }
    bare.push(b); ours.push(o); oursHello.push(h);
    ratios.ours.push(o / b); ratios.oursHello.push(h / b);
    if (!noPm2) { pm2.push(p); ratios.pm2.push(p / b); ratios.oursPm2.push(o / p); }
  }
} finally {
  await sup.stop();
  if (!noPm2) { try { execFileSync(pm2Bin, ['kill'], { env: pm2env, stdio: 'ignore', timeout: 30_000 }); } catch { /* already gone */ } }
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}

const b = stats(bare);
const o = stats(ours);
const h = stats(oursHello);
const r = (xs: number[]) => stats(xs).median.toFixed(2);
const load = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`rounds: ${RUNS} (bare, ours${noPm2 ? '' : ', pm2'} interleaved), node ${process.version}, load average ${load}`);
console.log(`bare spawn → ready:                ${fmt(b)}`);
console.log(`supervisor SIGKILL → hello:        ${fmt(h)}  (median per-round ratio ${r(ratios.oursHello)}× bare; ratio of medians ${(h.median / b.median).toFixed(2)}×)`);
console.log(`supervisor SIGKILL → ready:        ${fmt(o)}  (median per-round ratio ${r(ratios.ours)}× bare; ratio of medians ${(o.median / b.median).toFixed(2)}×)`);
if (!noPm2) {
  const p = stats(pm2);
  console.log(`pm2 (defaults) SIGKILL → ready:    ${fmt(p)}  (median per-round ratio ${r(ratios.pm2)}× bare; ratio of medians ${(p.median / b.median).toFixed(2)}×)`);
  console.log(`ours / pm2, ready:                 median per-round ${r(ratios.oursPm2)}; ratio of medians ${(o.median / p.median).toFixed(2)}`);
}
process.exit(0);
