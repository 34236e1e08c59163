/**
 * Crash → replacement ready: SIGKILL an agent and time until its replacement
 * reports ready, under our supervisor and under PM2 (defaults), beside a bare
 * spawn of the same script. Every figure comes from the same run on the same
 * machine; ratios are against the bare spawn.
 *
 *   npx tsx bench/restart-latency.ts [runs=20]
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/loadConfig.js';
import { StateDir } from '../src/supervisor/StateDir.js';
import { Supervisor } from '../src/supervisor/Supervisor.js';

const RUNS = Number(process.argv[2] ?? 20);
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


// 1. Bare spawn → ready.
const bare: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const ready = nextReady();
  const p = spawn(process.execPath, [AGENT], { env: { ...process.env, READY_SOCKET: sock }, stdio: 'ignore' });
  await ready;
  bare.push(performance.now() - t0);
  p.kill('SIGKILL');
  await sleep(50);
}


// 2. Our supervisor: SIGKILL → replacement ready. stable_uptime is short and we wait
//    past it, so every kill is "the first crash of a stable agent": restarted at once.
const stateDir = path.join(tmp, 'state');
const config = parseConfig({ background: { state_dir: stateDir, monitoring: { recovery: { stable_uptime: 0.3, circuit_breaker_threshold: 1000 } }, agents: [{ name: 'bench', command: [process.execPath, AGENT], env: { READY_SOCKET: sock } }] } });
const dir = new StateDir(stateDir);
dir.ensure();
const sup = new Supervisor(config, { stateDir: dir, logger: pino({ level: 'silent' }) });
let ready = nextReady();
await sup.start();
let pid = await ready;
const ours: number[] = [];
const oursHello: number[] = [];
for (let i = 0; i < RUNS; i++) {
  await sleep(1100); // past PM2's min_uptime (1 s), so PM2 never counts it as an unstable restart
  ready = nextReady();
  const hello = new Promise<void>((r) => { const on = ({ message }: { message: { type: string } }) => { if (message.type === 'hello') { sup.off('message', on); r(); } }; sup.on('message', on); });
  const t0 = performance.now();
  process.kill(pid, 'SIGKILL');
  await hello;
  oursHello.push(performance.now() - t0);
  pid = await ready;
  ours.push(performance.now() - t0);
}
await sup.stop();


// 3. PM2 with its defaults (restart_delay 0, exp backoff off), same script.
let pm2: number[] = [];
const pm2Bin = path.resolve(import.meta.dirname, '../node_modules/.bin/pm2');
const pm2Home = path.join(tmp, 'pm2');
const pm2env = { ...process.env, PM2_HOME: pm2Home, READY_SOCKET: sock };
try {
  ready = nextReady();
  execFileSync(pm2Bin, ['start', AGENT, '--name', 'bench-agent'], { env: pm2env, stdio: 'ignore', timeout: 30_000 });
  pid = await ready;
  for (let i = 0; i < RUNS; i++) {
    await sleep(1100); // past PM2's min_uptime (1 s), so PM2 never counts it as an unstable restart
    ready = nextReady();
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    pid = await ready;
    pm2.push(performance.now() - t0);
  }
} catch (err) {
  console.error(`pm2 run failed: ${(err as Error).message}`);
  pm2 = [];
} finally {
  try { execFileSync(pm2Bin, ['kill'], { env: pm2env, stdio: 'ignore', timeout: 30_000 }); } catch { /* already gone */ }
}

server.close();
rmSync(tmp, { recursive: true, force: true });
const b = stats(bare);
const o = stats(ours);
const h = stats(oursHello);
console.log(`runs: ${RUNS}, node ${process.version}`);
console.log(`bare spawn → ready:                ${fmt(b)}`);
console.log(`supervisor SIGKILL → hello:        ${fmt(h)}  (ratio ${(h.median / b.median).toFixed(2)}× bare)`);
console.log(`supervisor SIGKILL → ready:        ${fmt(o)}  (ratio ${(o.median / b.median).toFixed(2)}× bare)`);
if (pm2.length) {
  const p = stats(pm2);
  console.log(`pm2 (defaults) SIGKILL → ready:    ${fmt(p)}  (ratio ${(p.median / b.median).toFixed(2)}× bare; ours/pm2 ${(o.median / p.median).toFixed(2)})`);
}
process.exit(0);
