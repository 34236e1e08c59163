import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { pageSize, parseStat } from '../../../src/supervisor/procfs.js';
import { processTreesByScan } from '../../../src/supervisor/processTrees.js';
import { ResourceSampler } from '../../../src/supervisor/ResourceSampler.js';
import { waitFor } from '../../helpers/harness.js';

const started: ChildProcess[] = [];
const samplers: ResourceSampler[] = [];
afterEach(() => {
  for (const c of started.splice(0)) {
    try { process.kill(-(c.pid as number), 'SIGKILL'); } catch { /* gone */ }
  }
  for (const s of samplers.splice(0)) s.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tree(script: string): number {
  const c = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
  started.push(c);
  return c.pid as number;
}

function sampler(opts: ConstructorParameters<typeof ResourceSampler>[0] = {}): ResourceSampler {
  const s = new ResourceSampler(opts);
  samplers.push(s);
  return s;
}

async function settled(root: number, n: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const t = processTreesByScan([root]).get(root) ?? [];
    if (t.length === n) return t;
    if (Date.now() > deadline) throw new Error(`tree of ${root} has ${t.length} processes, not ${n}`);
    await sleep(20);
  }
}

const PAGE = 4096;
const rssOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[21]) * PAGE;
/** This process's descriptors on some /proc/<pid>/stat. */
const statFds = () => readdirSync('/proc/self/fd').filter((fd) => {
  try { return /^\/proc\/\d+\/stat$/.test(readlinkSync(`/proc/self/fd/${fd}`)); } catch { return false; }
}).length;

describe('ResourceSampler', () => {
  it('sums RSS and counts every process of the tree', async () => {
    const root = tree('sleep 30 & sleep 30 & wait');
    const pids = await settled(root, 3);
    // A child's RSS moves while it forks, execs and the loader maps its libraries (CI on
    // Node 24 sampled 3.2 MB and read 4.4 MB just after): wait for both children to be
    // `sleep`, and bracket the sample between readings taken just before and just after it.
    const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    await waitFor('the children to exec sleep', () => pids.filter((p) => p !== root).every((p) => comm(p) === 'sleep'), 10_000, 20);
    const rssSum = () => pids.reduce((a, p) => a + rssOf(p), 0);
    const before = rssSum();
    const s = (await sampler().sample([root])).get(root);
    const after = rssSum();
    expect(s?.processes).toBe(3);
    expect(s?.rssBytes).toBeGreaterThan(Math.min(before, after) * 0.9);
    expect(s?.rssBytes).toBeLessThan(Math.max(before, after) * 1.1);
  });

  it('counts the CPU of a busy grandchild in the root\'s tree', async () => {
    const root = tree('sh -c "while :; do :; done" & wait');
    await settled(root, 2);
    const sm = sampler();
    await sm.sample([root]);
    await sleep(600);
    const s = (await sm.sample([root])).get(root);
    expect(s?.processes).toBe(2);
    // One core busy, but at a load average of 19 on 2 cores a busy loop gets about 10 % of
    // one: what matters is that the grandchild's CPU is counted at all (an idle tree reads 0).
    expect(s?.cpuPercent).toBeGreaterThan(2);
    expect(s?.cpuPercent).toBeLessThan(150);
  });

  it('averages a tree\'s CPU over every round after a moment: a burst before it does not count, a busy tree is busy', async () => {
    // the root burns ~300 ms of CPU, then sleeps; its child burns for ever once the root sleeps
    const idle = tree('i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 60');
    const busy = tree('sh -c "while :; do :; done" & wait');
    await settled(busy, 2);
    const sm = sampler();
    await sm.sample([idle, busy]);
    // wait until the idle root has stopped burning (it exec'd sleep), then mark the moment
    const deadline = Date.now() + 30_000;
    while (!readFileSync(`/proc/${idle}/stat`, 'utf8').includes('(sleep)')) {
      if (Date.now() > deadline) throw new Error('the burst did not end');
      await sleep(20);
    }
    await sm.sample([idle, busy]);
    const since = Date.now();
    expect(sm.cpuPercentSince(idle, since, 100)).toBeUndefined(); // no round after it yet
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      await sm.sample([idle, busy]);
    }
    const idleAvg = sm.cpuPercentSince(idle, since, 100);
    const busyAvg = sm.cpuPercentSince(busy, since, 100);
    expect(idleAvg).toBeDefined();
    expect(idleAvg).toBeLessThan(2); // the burst before `since` is not in it
    expect(busyAvg).toBeGreaterThan(20); // one core busy; less when the host is loaded
    expect(sm.cpuPercentSince(busy, since, 60_000)).toBeUndefined(); // the span is shorter than asked
  });

  it('returns nothing for a root that is gone', async () => {
    const c = spawn('true');
    await new Promise((r) => c.on('exit', r));
    expect((await sampler().sample([c.pid as number])).size).toBe(0);
  });

  it('does not leak a descriptor per process per round (pidusage.clear() did)', async () => {
    const root = tree('sleep 30 & sleep 30 & wait');
    await settled(root, 3);
    const sm = sampler();
    const before = statFds();
    for (let i = 0; i < 3; i++) await sm.sample([root]);
    const steady = statFds();
    // One kept by the tree walk per process, at most (pidusage is not called where the walk read the stats).
    expect(steady - before).toBeLessThanOrEqual(3);
    for (let i = 0; i < 20; i++) await sm.sample([root]);
    expect(statFds()).toBe(steady);
    expect(sm.treeRounds.walks + sm.treeRounds.incremental).toBe(23);
  });

  it('takes CPU and RSS from the stat lines the tree walk read, and agrees with the pidusage fallback', async () => {
    const root = tree('sh -c "while :; do :; done" & sleep 30 & wait');
    await settled(root, 3);
    const fromProc = sampler();
    const viaPidusage = sampler({ pidusage: true });
    await Promise.all([fromProc.sample([root]), viaPidusage.sample([root])]);
    await sleep(500);
    const [a, b] = await Promise.all([fromProc.sample([root]), viaPidusage.sample([root])]);
    const p = a.get(root);
    const q = b.get(root);
    expect(p?.processes).toBe(3);
    expect(q?.processes).toBe(3);
    expect(Math.abs((p?.rssBytes ?? 0) - (q?.rssBytes ?? 0))).toBeLessThan(0.1 * (q?.rssBytes ?? 0));
    // one busy shell: both see it (a core at most; a fraction of one on a loaded host), and agree
    expect(p?.cpuPercent).toBeGreaterThan(5);
    expect(Math.abs((p?.cpuPercent ?? 0) - (q?.cpuPercent ?? 0))).toBeLessThan(30);
  });

  it('reads the stat fields in the units the kernel reports (USER_HZ ticks, pages of getconf PAGESIZE)', () => {
    expect(pageSize()).toBe(Number(execFileSync('getconf', ['PAGESIZE']).toString().trim()));
    expect(Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())).toBe(100);
    const st = parseStat(process.pid, readFileSync('/proc/self/stat', 'utf8'));
    const vmRss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
    expect(Math.abs(st.rssPages * pageSize() - vmRss)).toBeLessThan(0.1 * vmRss);
    const cpu = process.cpuUsage();
    expect(Math.abs((st.utime + st.stime) * 10 - (cpu.user + cpu.system) / 1000)).toBeLessThan(200); // ms, ±20 ticks
  });
});
