/**
 * The supervisor's own footprint beside PM2's, on the same 50 idle agents, in one
 * run: the daemons run at the same time (so they see the same machine load), each
 * with 50 copies of bench/fixtures/idle-agent.mjs (the Node SDK's connect(): a
 * protocol agent under ours, standalone under PM2). Ours samples every agent's
 * process tree every `sample_interval` (1 s here) and runs the default health
 * checks; PM2 7 (devDependency, defaults) samples nothing. With `--baseline <tree>`
 * a third daemon runs the same config from another build (`<tree>/dist`, e.g. main
 * built in a scratch checkout), for before/after in the same run.
 *
 * After the start-up settles, each daemon's CPU (utime + stime from /proc/<pid>/stat,
 * % of one core) and RSS (VmRSS, once a second) are measured over the same window.
 * Then, unless --no-flood, one more agent of each of ours (same fixture, FLOOD_FILE)
 * floods its stdout for `--flood` seconds, and the growth of each one's RSS over its
 * idle median is printed (PM2's log path is not the measure).
 *
 *   npm run build && npx tsx bench/footprint-vs-pm2.ts [seconds=60] [--agents 50] [--sample 1] [--settle 45] [--flood 20] [--no-flood] [--no-pm2] [--baseline <tree>]
 *   Steady state takes `600 --no-flood`: the memory-leak check's windows fill six minutes after start (its
 *   CPU with them), and a 60 s window sees the bottom of the old space's 90 s sawtooth (docs/benchmarks.md).
 *   SUP_NODE_ARGS / BASE_NODE_ARGS: node options for ours (default: the daemon's, DAEMON_V8_OPTIONS) / the
 *   baseline daemon (default: none). `--baseline .` with BASE_NODE_ARGS="--max-semi-space-size=2" and
 *   SUP_NODE_ARGS="" compares V8's default young generation with the daemon's, same build.
 *   SUP_ENV / BASE_ENV: extra environment for ours / the baseline ("MALLOC_ARENA_MAX=2 …"). Ours gets the
 *   daemon's environment (DAEMON_ENV: one malloc arena) unless SUP_ENV is set; SUP_ENV="" runs it without.
 *   SUP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/footprint-vs-pm2.ts 30 --no-pm2 --no-flood   # profile ours
 *   SUP_OUT / BASE_OUT: a file for that daemon's stdout and stderr (default: discarded), e.g. with `--trace-gc` in its node options.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { DAEMON_V8_OPTIONS } from '../src/cli/daemonNodeArgs.js';
import { daemonEnv } from '../src/supervisor/daemonEnv.js';

const args = process.argv.slice(2);
const flag = (name: string) => { const i = args.indexOf(name); if (i >= 0) args.splice(i, 1); return i >= 0; };
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const AGENTS = Number(opt('--agents') ?? 50);
const SAMPLE = Number(opt('--sample') ?? 1);
const FLOOD = Number(opt('--flood') ?? 20);
// The window starts this long after every agent is up: past V8's memory reducer, which runs a few
// major GCs about 30 s after a Node process starts allocating less (once; not an idle cost).
const SETTLE = Number(opt('--settle') ?? 45);
const baseline = opt('--baseline');
const noFlood = flag('--no-flood');
const noPm2 = flag('--no-pm2');
const SECONDS = Number(args[0] ?? 60);
const root = path.resolve(import.meta.dirname, '..');
const AGENT = path.join(root, 'bench/fixtures/idle-agent.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-footprint-'));
const FLOOD_FILE = path.join(tmp, 'flood-now');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ticks = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const r = f.slice(f.lastIndexOf(')') + 2).split(' '); return Number(r[11]) + Number(r[12]); };
/** A `kB` field of /proc/<pid>/status (or another /proc file's), in bytes. */
const procBytes = (pid: number, field: string, file = 'status') => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1]) * 1024;
const rss = (pid: number) => procBytes(pid, 'VmRSS');
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Ours { name: string; proc: ChildProcess; stateDir: string }
function startOurs(name: string, tree: string): Ours {
  const cli = path.join(tree, 'dist/cli/main.js');
  if (!existsSync(cli)) throw new Error(`no ${cli}: build it first (npm run build)`);
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  const stateDir = path.join(dir, 'state');
  const agents: Record<string, unknown>[] = Array.from({ length: AGENTS }, (_, i) => ({ name: `idle${i}`, command: [process.execPath, AGENT], stop_timeout: 2 }));
  if (!noFlood) agents.push({ name: 'flood', command: [process.execPath, AGENT], stop_timeout: 2, env: { FLOOD_FILE, FLOOD_SECONDS: String(FLOOD) } });
  writeFileSync(path.join(dir, 'config.yaml'), stringify({ background: { state_dir: stateDir, server: { port: 0 }, monitoring: { sample_interval: SAMPLE }, agents } }));
  // Ours runs with the daemon's V8 options, as `background start` gives them, unless SUP_NODE_ARGS says otherwise.
  const nodeArgs = (name === 'ours' ? process.env.SUP_NODE_ARGS ?? DAEMON_V8_OPTIONS.join(' ') : process.env.BASE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // SUP_ENV / BASE_ENV: extra environment ("K=V K2=V2") for ours / the baseline daemon, e.g. malloc's tunables.
  const given = process.env[name === 'ours' ? 'SUP_ENV' : 'BASE_ENV'];
  const extraEnv = name === 'ours' && given === undefined ? daemonEnv(process.env) : Object.fromEntries((given ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  // SUP_OUT / BASE_OUT: a file for the daemon's stdout and stderr (with SUP_NODE_ARGS="… --trace-gc", its GCs).
  const outFile = process.env[name === 'ours' ? 'SUP_OUT' : 'BASE_OUT'];
  const out = outFile ? openSync(outFile, 'w') : 'ignore';
  const proc = spawn(process.execPath, [...nodeArgs, cli, 'background', 'start', '--foreground', '--config', path.join(dir, 'config.yaml')], { cwd: tree, stdio: ['ignore', out, out], env: { ...process.env, LOG_LEVEL: 'warn', ...extraEnv } });
  if (typeof out === 'number') closeSync(out);
  return { name, proc, stateDir };
}

function api(s: Ours): { url: string; token: string } {
  const { url } = JSON.parse(readFileSync(path.join(s.stateDir, 'endpoint.json'), 'utf8')) as { url: string };
  return { url, token: readFileSync(path.join(s.stateDir, 'api.token'), 'utf8').trim() };
}

/** V8's heap spaces as the daemon's /metrics reports them (MB committed): where the RSS is. */
async function heapSpaces(s: Ours): Promise<string> {
  const { url, token } = api(s);
  const text = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()).catch(() => '');
  const sizes = [...text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="(new|old|code|large_object)"\} (\S+)/gm)].map((m) => `${m[1]} ${mb(Number(m[2]))}`);
  const used = /^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1];
  const external = /^nodejs_external_memory_bytes (\S+)/m.exec(text)?.[1];
  // RssAnon is the private memory (heap, malloc, stacks); what the heap and V8's external memory do not explain is malloc's.
  const anon = procBytes(s.proc.pid as number, 'RssAnon');
  return `heap spaces (MB): ${sizes.join(', ')}; heap used ${mb(Number(used))}; external ${mb(Number(external))}; RssAnon ${mb(anon)}`;
}

/**
 * RSS in parts, for any daemon (PM2's too), from /proc: private memory (RssAnon: heap, malloc, stacks) and
 * file-backed pages (RssFile: mostly the `node` binary's code, shared with every other node process, the
 * agents included); Pss counts each shared page divided among the processes that map it.
 */
function rssParts(pid: number): string {
  return `RssAnon ${mb(procBytes(pid, 'RssAnon'))}, RssFile ${mb(procBytes(pid, 'RssFile'))}, Pss ${mb(procBytes(pid, 'Pss', 'smaps_rollup'))} MB`;
}

async function agentsUp(s: Ours): Promise<number> {
  if (s.proc.exitCode !== null) throw new Error(`${s.name}: the supervisor exited with ${s.proc.exitCode}`);
  if (!existsSync(path.join(s.stateDir, 'endpoint.json'))) return 0;
  const { url, token } = api(s);
  const r = await fetch(`${url}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } }).then((x) => x.json() as Promise<{ system?: { replicas?: { up: number } } }>).catch(() => undefined);
  return r?.system?.replicas?.up ?? 0;
}

const supervisors = [startOurs('ours', root), ...(baseline ? [startOurs('baseline', path.resolve(baseline))] : [])];
const pm2Bin = path.join(root, 'node_modules/.bin/pm2');
const pm2env = { ...process.env, PM2_HOME: path.join(tmp, 'pm2') };
let pm2: number | undefined;
if (!noPm2) {
  const apps = Array.from({ length: AGENTS }, (_, i) => ({ name: `idle${i}`, script: AGENT }));
  writeFileSync(path.join(tmp, 'pm2.config.cjs'), `module.exports = ${JSON.stringify({ apps })};`);
  execFileSync(pm2Bin, ['start', path.join(tmp, 'pm2.config.cjs')], { env: pm2env, stdio: 'ignore', timeout: 120_000 });
  pm2 = Number(readFileSync(path.join(tmp, 'pm2', 'pm2.pid'), 'utf8'));
}

async function stopAll(): Promise<void> {
  if (pm2 !== undefined) try { execFileSync(pm2Bin, ['kill'], { env: pm2env, stdio: 'ignore', timeout: 60_000 }); } catch { /* gone */ }
  await Promise.all(supervisors.map(async (s) => {
    if (s.proc.exitCode === null) {
      s.proc.kill('SIGTERM');
      await Promise.race([new Promise((r) => s.proc.once('exit', r)), sleep(30_000)]);
      if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    }
    try {
      const pids = JSON.parse(readFileSync(path.join(s.stateDir, 'agents.pid.json'), 'utf8')) as { agents?: { pid: number }[] };
      for (const a of pids.agents ?? []) try { process.kill(-a.pid, 'SIGKILL'); } catch { /* gone */ }
    } catch { /* no pid file */ }
  }));
  rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => { void stopAll().then(() => process.exit(130)); });

async function measure(seconds: number, pids: number[]): Promise<{ cpu: number; rss: number[] }[]> {
  const t0 = pids.map(ticks);
  const w0 = Date.now();
  const samples = pids.map(() => [] as number[]);
  while (Date.now() - w0 < seconds * 1000) {
    pids.forEach((p, i) => samples[i]?.push(rss(p)));
    await sleep(1000);
  }
  const wall = (Date.now() - w0) / 1000;
  return pids.map((p, i) => ({ cpu: ((ticks(p) - (t0[i] as number)) / 100 / wall) * 100, rss: samples[i] as number[] }));
}

try {
  const want = AGENTS + (noFlood ? 0 : 1);
  const deadline = Date.now() + 600_000;
  let told = Date.now();
  for (;;) {
    const up = await Promise.all(supervisors.map(agentsUp));
    const pm2Online = pm2 === undefined ? AGENTS : (JSON.parse(execFileSync(pm2Bin, ['jlist'], { env: pm2env, timeout: 30_000 }).toString()) as { pm2_env: { status: string } }[]).filter((p) => p.pm2_env.status === 'online').length;
    if (up.every((n) => n >= want) && pm2Online >= AGENTS) break;
    if (Date.now() > deadline) throw new Error(`the agents did not all start within 600 s: ${supervisors.map((s, i) => `${s.name} ${up[i]}/${want}`).join(', ')}, pm2 ${pm2Online}/${AGENTS}`);
    if (Date.now() - told > 15_000) {
      told = Date.now();
      console.error(`starting: ${supervisors.map((s, i) => `${s.name} ${up[i]}/${want}`).join(', ')}, pm2 ${pm2Online}/${AGENTS}`);
    }
    await sleep(1000);
  }
  await sleep(SETTLE * 1000); // start-up work done (first full tree walks, JIT, first GCs, the memory reducer's GCs)

  const names = [...supervisors.map((s) => s.name), ...(pm2 === undefined ? [] : ['pm2'])];
  const pids = [...supervisors.map((s) => s.proc.pid as number), ...(pm2 === undefined ? [] : [pm2])];
  const idle = await measure(SECONDS, pids);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`footprint, ${AGENTS} idle agents each, ${SECONDS} s from ${SETTLE} s after they were all up, sample_interval ${SAMPLE} s, default checks; load average ${load}`);
  idle.forEach((r, i) => console.log(`  ${(names[i] as string).padEnd(8)} CPU ${r.cpu.toFixed(2)}% of one core; RSS median ${mb(median(r.rss))} MB (min ${mb(Math.min(...r.rss))}, max ${mb(Math.max(...r.rss))})`));
  pids.forEach((p, i) => console.log(`  ${(names[i] as string).padEnd(8)} at the window's end: ${rssParts(p)}`));
  for (const s of supervisors) console.log(`  ${s.name.padEnd(8)} ${await heapSpaces(s)}`);
  const by = (n: string) => idle[names.indexOf(n)] as { cpu: number; rss: number[] };
  const ratio = (a: string, b: string) => `  ${a}/${b}: CPU ${(by(a).cpu / Math.max(by(b).cpu, 0.01)).toFixed(2)}×, RSS ${(median(by(a).rss) / median(by(b).rss)).toFixed(2)}×`;
  if (names.includes('pm2')) for (const s of supervisors) console.log(ratio(s.name, 'pm2'));
  if (baseline) console.log(ratio('ours', 'baseline'));
  if (!noFlood) {
    writeFileSync(FLOOD_FILE, '');
    const flood = await measure(FLOOD, supervisors.map((s) => s.proc.pid as number));
    flood.forEach((f, i) => {
      const base = median((idle[i] as { rss: number[] }).rss);
      console.log(`  ${(names[i] as string).padEnd(8)} during a ${FLOOD} s stdout flood by one agent: CPU ${f.cpu.toFixed(1)}%; RSS max ${mb(Math.max(...f.rss))} MB, +${mb(Math.max(...f.rss) - base)} MB over the idle median`);
    });
    for (const s of supervisors) console.log(`  ${s.name.padEnd(8)} after the flood: ${await heapSpaces(s)}`);
  }
} finally {
  await stopAll();
}
