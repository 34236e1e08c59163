/**
 * CLI latency against PM2, in one run: `--version`, `background --help` and
 * `background status` (a supervisor with 5 idle agents) beside `pm2 ls` and `pm2 jlist`
 * (PM2 7, a devDependency, its daemon with the same 5 idle processes). Each round runs
 * every command once, in the same order, so a load spike hits all of them; the figures
 * are medians over the rounds, with the ratio to `pm2 ls`; `node -e 0` is the floor
 * (Node's own start-up). Each command runs under
 * /usr/bin/time for its peak RSS. The modules each of our commands loads are counted
 * once, outside the timed rounds (test/helpers/recordImports.mjs).
 *
 * BENCH_BEFORE=<dir> adds the same three commands from another build (a directory
 * holding dist/ and package.json, with node_modules reachable from it), e.g. main's:
 *
 *   git worktree add /tmp/cli-before main && (cd /tmp/cli-before && ln -s "$PWD/../<repo>/node_modules" . && npm run build)
 *   npm run build && BENCH_BEFORE=/tmp/cli-before npx tsx bench/cli-latency.ts [rounds=10]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';

const ROUNDS = Number(process.argv[2] ?? 10);
const AGENTS = 5;
const root = path.resolve(import.meta.dirname, '..');
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-cli-'));
const stateDir = path.join(tmp, 'state');
const pm2Script = path.join(root, 'node_modules/pm2/bin/pm2');
const pm2Home = path.join(tmp, 'pm2');
const pm2Env = { ...process.env, PM2_HOME: pm2Home };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Cmd {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Ours: count the modules it loads. */
  cli?: string;
}

const ours = (name: string, cli: string, args: string[]): Cmd => ({ name, cli, args: [cli, ...args] });
/** The build's binary as npm installs it (package.json "bin"): dist/cli/bin.cjs since issue 13, dist/cli/main.js before. */
const cliOf = (dir: string) => path.join(dir, (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['agentic-scrum-setup'] as string);
const commands: Cmd[] = [{ name: 'node -e 0 (floor)', args: ['-e', '0'] }];
for (const [label, dir] of [['', root], ...(BEFORE ? [[' (before)', BEFORE]] : [])] as [string, string][]) {
  commands.push(ours(`--version${label}`, cliOf(dir), ['--version']));
  commands.push(ours(`--help${label}`, cliOf(dir), ['background', '--help']));
  commands.push(ours(`status${label}`, cliOf(dir), ['background', 'status', '--state-dir', stateDir]));
}
commands.push({ name: 'pm2 ls', args: [pm2Script, 'ls'], env: pm2Env });
commands.push({ name: 'pm2 jlist', args: [pm2Script, 'jlist'], env: pm2Env });

/** One run: wall ms from spawn to exit, and the peak RSS /usr/bin/time saw (bytes). */
function runOnce(cmd: Cmd): Promise<{ ms: number; rss: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, ...cmd.args], { cwd: tmp, env: { ...(cmd.env ?? process.env), NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      const rss = Number(/MAXRSS (\d+)/.exec(err)?.[1]) * 1024;
      if (code !== 0) reject(new Error(`${cmd.name} exited ${code}: ${err.slice(-500)}`));
      else resolve({ ms, rss });
    });
  });
}

/** The modules a command loads (ours only). */
function moduleCount(cmd: Cmd): number {
  const file = path.join(tmp, `mods-${commands.indexOf(cmd)}.txt`);
  execFileSync(process.execPath, ['--import', path.join(root, 'test/helpers/recordImports.mjs'), ...cmd.args], { cwd: tmp, env: { ...process.env, RECORD_IMPORTS_FILE: file }, stdio: 'ignore' });
  return new Set(readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('node:'))).size;
}

// Our supervisor with 5 idle agents.
writeFileSync(path.join(tmp, 'c.yaml'), stringify({ background: { state_dir: stateDir, server: { port: 0 }, agents: Array.from({ length: AGENTS }, (_, i) => ({ name: `idle${i}`, command: ['sleep', '3600'] })) } }));
const sup = spawn(process.execPath, [cliOf(root), 'background', 'start', '--foreground', '--config', path.join(tmp, 'c.yaml')], { cwd: root, stdio: 'ignore' });
// PM2 with the same 5 idle processes.
const sleepBin = execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim();
try {
  for (let i = 0; i < AGENTS; i++) execFileSync(process.execPath, [pm2Script, 'start', sleepBin, '--name', `idle${i}`, '--interpreter', 'none', '--', '3600'], { env: pm2Env, stdio: 'ignore', timeout: 60_000 });
  for (let i = 0; i < 100 && !existsSync(path.join(stateDir, 'endpoint.json')); i++) await sleep(200);
  await sleep(2000); // agents started, first samples taken
  const counts = new Map(commands.filter((c) => c.cli).map((c) => [c.name, moduleCount(c)]));

  const results = new Map<string, { ms: number[]; rss: number[] }>(commands.map((c) => [c.name, { ms: [], rss: [] }]));
  for (const c of commands) await runOnce(c); // warm the page cache
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of commands) {
      const x = await runOnce(c);
      results.get(c.name)!.ms.push(x.ms);
      results.get(c.name)!.rss.push(x.rss);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const pm2ls = median(results.get('pm2 ls')!.ms);
  console.log(`CLI latency: ${ROUNDS} rounds (median), ${AGENTS} idle agents under each, Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const pad = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 22 : 14)).join(''));
  pad(['command', 'wall ms', '× pm2 ls', 'RSS MB', 'modules', 'runs (ms)']);
  for (const c of commands) {
    const x = results.get(c.name)!;
    const ms = median(x.ms);
    pad([c.name, ms.toFixed(0), (ms / pm2ls).toFixed(2), (median(x.rss) / 1024 / 1024).toFixed(0), counts.get(c.name) ?? '', x.ms.map((v) => v.toFixed(0)).join(' ')]);
  }
  if (BEFORE) {
    console.log('\nafter / before (same run):');
    for (const n of ['--version', '--help', 'status']) {
      const a = results.get(n)!;
      const b = results.get(`${n} (before)`)!;
      console.log(`  ${n}: ${median(b.ms).toFixed(0)} → ${median(a.ms).toFixed(0)} ms (${(median(a.ms) / median(b.ms)).toFixed(2)}×), RSS ${(median(b.rss) / 1048576).toFixed(0)} → ${(median(a.rss) / 1048576).toFixed(0)} MB, modules ${counts.get(`${n} (before)`)} → ${counts.get(n)}`);
    }
  }
} finally {
  try { execFileSync(process.execPath, [pm2Script, 'kill'], { env: pm2Env, stdio: 'ignore', timeout: 30_000 }); } catch { /* already gone */ }
  sup.kill('SIGTERM');
  await new Promise((r) => (sup.exitCode !== null ? r(undefined) : sup.once('exit', r)));
  rmSync(tmp, { recursive: true, force: true });
}
