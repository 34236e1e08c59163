/**
 * Logging throughput: a real supervisor (the built CLI in the foreground, HTTP on
 * loopback) runs bench/fixtures/log-spammer.mjs, which writes the log lines of
 * test/fixtures/agents/spam.mjs (half JSON, half plain text, about 200 bytes,
 * numbered) to stdout, as fast as the pipe takes them ("flood") or at a set rate.
 * Over a steady window of `seconds` the bench measures:
 * - lines the agent got into the pipe a second (its own count, in a file);
 * - lines and bytes a second that reach the central store
 *   (`<state_dir>/logs/spam*.log`, rotated files included: each file is read
 *   incrementally by inode as it grows, so a line counts even after rotation
 *   renamed or deleted its file), hence the share the store dropped;
 * - the supervisor's CPU (utime + stime from /proc/<pid>/stat, % of one core;
 *   all its threads) and RSS, the agent's CPU, and the log directory's peak size
 *   against `max_total_size_mb`.
 * After the window the agent stops writing and the bench waits for the store to
 * settle, then compares all lines written with all lines stored, and with the
 * store's own counters on /metrics (agentic_log_lines_written_total and
 * agentic_log_lines_dropped_total).
 * Baselines in the same run: the flood spammer with stdout on /dev/null, and on a
 * pipe drained by a bare reader.
 *
 *   npm run build && npx tsx bench/logging-throughput.ts [seconds=10] [rates=flood,1000,5000,20000] [max_file_size_mb=5] [max_files=3] [max_total_size_mb=20]
 *   BENCH_SUP_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npx tsx bench/logging-throughput.ts 5 flood   # profile the supervisor
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

const SECONDS = Number(process.argv[2] ?? 10);
const RATES = (process.argv[3] ?? 'flood,1000,5000,20000').split(',').map((r) => (r === 'flood' ? 0 : Number(r)));
const FILE_MB = Number(process.argv[4] ?? 5);
const MAX_FILES = Number(process.argv[5] ?? 3);
const TOTAL_MB = Number(process.argv[6] ?? 20);
const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const SPAMMER = path.join(ROOT, 'bench/fixtures/log-spammer.mjs');
const WARMUP_S = 1;
const TICK = 100; // USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on Linux

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process (all threads), in seconds, and its RSS in bytes; undefined once it is gone. */
function usage(pid: number): { cpuS: number; rssBytes: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: (Number(f[11]) + Number(f[12])) / TICK, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
  } catch {
    return undefined;
  }
}

/** The spammer's own count of lines stdout accepted, from its count file. */
function written(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').split(' ')[0]) || 0;
  } catch {
    return 0;
  }
}

/**
 * Counts the lines and bytes that reach the store's files of one stream, following
 * each file by inode so that a rotation (a rename, then a new live file) neither
 * loses nor double-counts what was read. Bytes a file held when rotation deleted
 * it before they were read would be lost to the count, so `poll` runs often.
 */
class StoreCounter {
  lines = 0;
  bytes = 0;
  private readonly offsets = new Map<string, number>();
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  constructor(private readonly dir: string, private readonly prefix: string) {}

  poll(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.startsWith(`${this.prefix}.`) && n.endsWith('.log'));
    } catch {
      return;
    }
    for (const name of names) {
      let fd: number;
      try {
        fd = openSync(path.join(this.dir, name), 'r');
      } catch {
        continue; // rotated away meanwhile
      }
      try {
        const st = fstatSync(fd);
        const id = `${st.ino}:${st.birthtimeMs}`; // an inode number may be reused once rotation deleted its file
        let offset = this.offsets.get(id) ?? 0;
        if (st.size < offset) offset = 0; // reused, and no birth time to tell them apart
        for (;;) {
          const n = readSync(fd, this.buf, 0, this.buf.length, offset);
          if (n <= 0) break;
          const last = this.buf.lastIndexOf(10, n - 1); // complete lines only: a partial one is read again next time
          if (last < 0) break;
          for (let i = this.buf.indexOf(10); i >= 0 && i <= last; i = this.buf.indexOf(10, i + 1)) this.lines++;
          this.bytes += last + 1;
          offset += last + 1;
        }
        this.offsets.set(id, offset);
      } finally {
        closeSync(fd);
      }
    }
  }
}

const dirBytes = (dir: string) => {
  try {
    return readdirSync(dir).reduce((sum, f) => { try { return sum + statSync(path.join(dir, f)).size; } catch { return sum; } }, 0);
  } catch {
    return 0;
  }
};

/** The flood spammer outside the supervisor: stdout on /dev/null or on a pipe drained here. */
async function baseline(kind: 'devnull' | 'pipe'): Promise<{ linesPerS: number; bytesPerS: number; spamCpuPct: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-logs-'));
  const countFile = path.join(dir, 'count');
  const out = kind === 'devnull' ? openSync('/dev/null', 'w') : 'pipe';
  const child = spawn(process.execPath, [SPAMMER], { env: { ...process.env, SPAM_SECONDS: String(SECONDS), SPAM_COUNT_FILE: countFile }, stdio: ['ignore', out, 'inherit'] });
  if (typeof out === 'number') closeSync(out);
  let bytes = 0;
  child.stdout?.on('data', (c: Buffer) => { bytes += c.length; });
  try {
    const t0 = performance.now();
    await sleep(SECONDS * 1000 + 300);
    const n = written(countFile);
    const u = usage(child.pid!);
    const elapsed = Math.min(SECONDS, (performance.now() - t0) / 1000);
    return { linesPerS: n / elapsed, bytesPerS: kind === 'pipe' ? bytes / elapsed : NaN, spamCpuPct: ((u?.cpuS ?? NaN) / elapsed) * 100 };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Supervised {
  /** In the window: lines a second the agent wrote, that reached the store, and stored bytes a second. */
  wrotePerS: number;
  storedPerS: number;
  storedBytesPerS: number;
  supCpuPct: number;
  spamCpuPct: number;
  rssStart: number;
  rssMax: number;
  dirMax: number;
  /** Over the whole run, once the store settled. */
  wroteTotal: number;
  storedTotal: number;
  settleS: number;
  /** The store's own counters for the agent on /metrics once settled (NaN when absent). */
  metricWritten: number;
  metricDropped: number;
}

/** `agentic_log_lines_{written,dropped}_total{agent="spam"}` from the supervisor's /metrics. */
async function storeCounters(stateDir: string): Promise<{ metricWritten: number; metricDropped: number }> {
  try {
    const { url } = JSON.parse(readFileSync(path.join(stateDir, 'endpoint.json'), 'utf8')) as { url: string };
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{agent="spam"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { metricWritten: value('agentic_log_lines_written_total'), metricDropped: value('agentic_log_lines_dropped_total') };
  } catch {
    return { metricWritten: NaN, metricDropped: NaN };
  }
}

async function supervised(rate: number): Promise<Supervised> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-logs-'));
  const stateDir = path.join(dir, 'state');
  const logDir = path.join(stateDir, 'logs');
  const config = path.join(dir, 'config.yaml');
  const countFile = path.join(dir, 'count');
  writeFileSync(config, stringify({ background: {
    state_dir: stateDir,
    server: { host: '127.0.0.1', port: 0 },
    logging: { max_file_size_mb: FILE_MB, max_files: MAX_FILES, max_total_size_mb: TOTAL_MB },
    // still writing through the whole window, whenever the agent started
    agents: [{ name: 'spam', command: [process.execPath, SPAMMER], env: { SPAM_SECONDS: String(SECONDS + WARMUP_S + 3), SPAM_RATE: String(rate), SPAM_COUNT_FILE: countFile } }],
  } }));
  let sup: ChildProcess | undefined;
  let out = '';
  try {
    sup = spawn(process.execPath, [...(process.env.BENCH_SUP_NODE_ARGS?.split(' ').filter(Boolean) ?? []), CLI, 'background', 'start', '--foreground', '--config', config], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => { out = (out + d.toString()).slice(-4000); };
    sup.stdout!.on('data', keep);
    sup.stderr!.on('data', keep);
    const counter = new StoreCounter(logDir, 'spam');
    const deadline = Date.now() + 30_000;
    while (counter.lines === 0) { // until the first line is stored
      if (sup.exitCode !== null || Date.now() > deadline) throw new Error(`the supervisor did not store the agent's lines (exit ${sup.exitCode}): ${out}`);
      await sleep(50);
      counter.poll();
    }
    const rssStart = usage(sup.pid!)?.rssBytes ?? NaN;
    let rssMax = rssStart;
    let dirMax = 0;
    const tick = () => {
      counter.poll();
      rssMax = Math.max(rssMax, usage(sup!.pid!)?.rssBytes ?? 0);
      dirMax = Math.max(dirMax, dirBytes(logDir));
    };
    const warmEnd = Date.now() + WARMUP_S * 1000;
    while (Date.now() < warmEnd) { await sleep(50); tick(); }
    const spamPid = (JSON.parse(readFileSync(path.join(stateDir, 'agents.pid.json'), 'utf8')) as { agents: { pid: number }[] }).agents[0]?.pid;
    const before = { stored: counter.lines, bytes: counter.bytes, wrote: written(countFile), sup: usage(sup.pid!)!, spam: spamPid ? usage(spamPid) : undefined, t: performance.now() };
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) { await sleep(50); tick(); }
    tick();
    const elapsed = (performance.now() - before.t) / 1000;
    const supAfter = usage(sup.pid!)!;
    const spamAfter = spamPid ? usage(spamPid) : undefined;
    const window = {
      wrotePerS: (written(countFile) - before.wrote) / elapsed,
      storedPerS: (counter.lines - before.stored) / elapsed,
      storedBytesPerS: (counter.bytes - before.bytes) / elapsed,
      supCpuPct: ((supAfter.cpuS - before.sup.cpuS) / elapsed) * 100,
      spamCpuPct: before.spam && spamAfter ? ((spamAfter.cpuS - before.spam.cpuS) / elapsed) * 100 : NaN,
    };
    // The agent stops writing at most 3 s after the window; then wait until the store has written what it kept (no growth for 2 s).
    const settleStart = performance.now();
    let last = '';
    let stableSince = Date.now();
    const settleDeadline = Date.now() + 60_000;
    while (Date.now() < settleDeadline) {
      await sleep(100);
      tick();
      const now = `${counter.lines} ${written(countFile)}`;
      if (now !== last) { last = now; stableSince = Date.now(); }
      if (Date.now() - stableSince > 2000 && Date.now() > end + 3000) break;
    }
    return { ...window, rssStart, rssMax, dirMax, wroteTotal: written(countFile), storedTotal: counter.lines, settleS: (performance.now() - settleStart) / 1000, ...(await storeCounters(stateDir)) };
  } finally {
    if (sup && sup.exitCode === null) {
      const exited = new Promise((r) => sup!.once('exit', r));
      sup.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (sup.exitCode === null) sup.kill('SIGKILL');
    }
    // an agent left behind by a supervisor that failed half-way
    try {
      const pids = JSON.parse(readFileSync(path.join(stateDir, 'agents.pid.json'), 'utf8')) as { agents?: { pid: number }[] };
      for (const a of pids.agents ?? []) { try { process.kill(-a.pid, 'SIGKILL'); } catch { /* gone */ } }
    } catch {
      // no pid file
    }
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (b: number) => (b / 1e6).toFixed(1);
const k = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} %` : '—');
const limitBytes = TOTAL_MB * 1024 * 1024;
console.log(`Logging throughput: ${SECONDS} s window after ${WARMUP_S} s, logging max_file_size_mb ${FILE_MB}, max_files ${MAX_FILES}, max_total_size_mb ${TOTAL_MB}; Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const cols = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(18) : `  ${c.padStart(Math.max(10, c.length))}`)).join(''));
if (RATES.includes(0)) {
  const raw = await baseline('devnull');
  const piped = await baseline('pipe');
  console.log('\nBaselines: the flood spammer alone');
  cols(['stdout', 'lines/s', 'MB/s', 'spammer CPU']);
  cols(['/dev/null', k(raw.linesPerS), '—', pct(raw.spamCpuPct)]);
  cols(['pipe, bare reader', k(piped.linesPerS), mb(piped.bytesPerS), pct(piped.spamCpuPct)]);
}
console.log('\nThrough the supervisor into the log store (window figures; "all" = whole run once settled)');
cols(['agent', 'wrote/s', 'stored/s', 'stored MB/s', 'sup. CPU', 'µs CPU/line', 'agent CPU', 'log dir peak', 'stored / wrote (all)', 'dropped', 'metrics: written / dropped', 'sup. RSS']);
let over = false;
for (const rate of RATES) {
  const r = await supervised(rate);
  over ||= r.dirMax > limitBytes;
  cols([rate === 0 ? 'flood' : `${k(rate)} lines/s`, k(r.wrotePerS), k(r.storedPerS), mb(r.storedBytesPerS), pct(r.supCpuPct), ((r.supCpuPct * 1e4) / r.wrotePerS).toFixed(1), pct(r.spamCpuPct), `${mb(r.dirMax)} MB`, `${k(r.storedTotal)} / ${k(r.wroteTotal)}`, pct((1 - r.storedTotal / r.wroteTotal) * 100), `${k(r.metricWritten)} / ${k(r.metricDropped)}`, `${mb(r.rssStart)} → ${mb(r.rssMax)} MB`]);
}
console.log(`\n"wrote": lines the agent's stdout accepted (what the supervisor read, give or take the pipe's buffer); "µs CPU/line": supervisor CPU per line written; "metrics": the store's own counters for the agent once settled. Log dir limit: max_total_size_mb ${TOTAL_MB} = ${mb(limitBytes)} MB${over ? ': EXCEEDED' : ', never exceeded'}.`);
if (over) process.exitCode = 1;
