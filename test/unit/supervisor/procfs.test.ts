import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { groupMayExist, pidsInGroup, readProcStat } from '../../../src/supervisor/procfs.js';
import { hasChildrenFiles, processTrees, processTreesByScan, ProcessTreeWalker } from '../../../src/supervisor/processTrees.js';

// Real process trees: each test starts a shell in its own process group (as the
// supervisor starts an agent) and compares the walk with a scan of every process.

const started: ChildProcess[] = [];
const walkers: ProcessTreeWalker[] = [];
afterEach(() => {
  for (const c of started.splice(0)) {
    try { process.kill(-(c.pid as number), 'SIGKILL'); } catch { /* gone */ }
  }
  for (const w of walkers.splice(0)) w.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tree(script: string): number {
  const c = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
  started.push(c);
  return c.pid as number;
}

function walker(opts: ConstructorParameters<typeof ProcessTreeWalker>[0] = {}): ProcessTreeWalker {
  const w = new ProcessTreeWalker(opts);
  walkers.push(w);
  return w;
}

/** Waits until the scan of every process finds `n` live processes under `root`. */
async function settled(root: number, n: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const t = processTreesByScan([root]).get(root) ?? [];
    if (t.length === n) return t;
    if (Date.now() > deadline) throw new Error(`tree of ${root} has ${t.length} processes, not ${n}: ${t.join(' ')}`);
    await sleep(20);
  }
}

const tgid = (pid: number) => Number(/^Tgid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const sorted = (xs: readonly number[] | undefined) => [...(xs ?? [])].sort((a, b) => a - b);

describe('hasChildrenFiles', () => {
  it('is true on this kernel (CONFIG_PROC_CHILDREN), so the sampler walks trees instead of scanning the host', () => {
    expect(hasChildrenFiles()).toBe(true);
  });
});

describe.runIf(hasChildrenFiles())('processTrees (children files)', () => {
  it('finds both children of `sh -c "sleep & sleep & wait"`, root first, like a scan of every process', async () => {
    const root = tree('sleep 30 & sleep 30 & wait');
    const scan = await settled(root, 3);
    const t = processTrees([root]).get(root) as number[];
    expect(t[0]).toBe(root);
    expect(sorted(t)).toEqual(sorted(scan));
    for (const pid of t.slice(1)) expect(readProcStat(pid)?.ppid).toBe(root);
  });

  it('keeps a grandchild that called setsid (it left the process group, not the tree)', async () => {
    const root = tree('sh -c "setsid sleep 30 & wait" & wait');
    let scan = await settled(root, 3);
    // the grandchild is in the tree before it has called setsid(): wait until it has left the group
    for (const deadline = Date.now() + 10_000; scan.every((p) => readProcStat(p)?.pgid === root) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 20));
      scan = await settled(root, 3);
    }
    const t = processTrees([root]).get(root) as number[];
    expect(sorted(t)).toEqual(sorted(scan));
    const escaped = t.filter((p) => readProcStat(p)?.pgid !== root);
    expect(escaped).toHaveLength(1);
    const sid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[3]);
    expect(sid(escaped[0] as number)).not.toBe(sid(root));
    expect(pidsInGroup(root)).not.toContain(escaped[0]);
    expect(sorted(pidsInGroup(root))).toEqual(sorted(t.filter((p) => p !== escaped[0])));
  });

  it('leaves out zombies, though the kernel still lists them as children', async () => {
    // The shell execs `sleep 30`, which never reaps the `true` it inherited.
    const root = tree('true & exec sleep 30');
    let zombie: number | undefined;
    const deadline = Date.now() + 10_000;
    while (zombie === undefined && Date.now() < deadline) {
      const listed = readFileSync(`/proc/${root}/task/${root}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
      zombie = listed.find((p) => readProcStat(p)?.state === 'Z');
      if (zombie === undefined) await sleep(20);
    }
    expect(zombie).toBeDefined();
    expect(processTrees([root]).get(root)).toEqual([root]);
    expect(walker().trees([root]).get(root)).toEqual([root]);
    expect(processTreesByScan([root]).get(root)).toEqual([root]);
  });

  it('reads the children of every thread, not only the main one', async () => {
    // node forks from its main thread; a worker thread's child is listed under the worker's tid only.
    const script = "const { Worker } = require('worker_threads'); new Worker(\"require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); setTimeout(() => {}, 30000)\", { eval: true }); setTimeout(() => {}, 30000)";
    const c = spawn(process.execPath, ['-e', script], { stdio: 'ignore', detached: true });
    started.push(c);
    const root = c.pid as number;
    const scan = await settled(root, 2);
    const child = scan.find((p) => p !== root) as number;
    expect(readFileSync(`/proc/${root}/task/${root}/children`, 'utf8')).not.toContain(String(child));
    expect(sorted(processTrees([root]).get(root))).toEqual(sorted(scan));
  });

  it('gives a root that is gone an empty tree', () => {
    const c = spawn('true');
    const gone = c.pid as number;
    return new Promise<void>((resolve) => c.on('exit', () => {
      expect(processTrees([gone]).get(gone)).toEqual([]);
      expect(processTreesByScan([gone]).get(gone)).toEqual([]);
      resolve();
    }));
  });
});

describe.runIf(hasChildrenFiles())('ProcessTreeWalker (incremental)', () => {
  it('adds the processes created between rounds (not their threads) and drops those that exited', async () => {
    // Round 1: the shell and its foreground sleep. Then it starts node (many threads,
    // each with a pid whose stat names the shell as parent) and a sleep with a child.
    const root = tree('sleep 0.6; node -e "setTimeout(() => {}, 30000)" & sh -c "sleep 30 & wait" & sleep 30');
    const w = walker({ probeLimit: 1_000_000 }); // probe, even if other suites create many tasks meanwhile
    await settled(root, 2);
    expect(sorted(w.trees([root]).get(root))).toEqual(sorted(processTreesByScan([root]).get(root)));
    const scan = await settled(root, 5);
    await sleep(200); // node is up, with its threads
    const t = w.trees([root]).get(root) as number[];
    expect(w.counts.walks).toBe(1);
    expect(w.counts.incremental).toBe(1);
    expect(w.counts.probed).toBeGreaterThan(0);
    expect(sorted(t)).toEqual(sorted(scan));
    for (const p of t) expect(tgid(p)).toBe(p);
    expect(t[0]).toBe(root);
    for (const p of t.slice(1)) { // parents first
      const parent = t.indexOf(readProcStat(p)?.ppid as number);
      expect(parent).toBeGreaterThanOrEqual(0);
      expect(parent).toBeLessThan(t.indexOf(p));
    }

    // The inner sh dies (SIGKILL): its sleep is reparented out of the tree.
    const inner = t.find((p) => p !== root && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sh')) as number;
    process.kill(inner, 'SIGKILL');
    await settled(root, 3);
    await sleep(50);
    const after = w.trees([root]).get(root) as number[];
    expect(sorted(after)).toEqual(sorted(processTreesByScan([root]).get(root)));
    expect(after).not.toContain(inner);
    expect(after).toHaveLength(3);
  });

  it('walks in full every resyncEvery rounds, for a new root, when too many tasks were created, and when not incremental', async () => {
    const a = tree('sleep 30 & wait');
    const b = tree('sleep 30 & wait');
    await settled(a, 2);
    await settled(b, 2);
    const busy = walker({ probeLimit: 0 });
    busy.trees([a]);
    const c = spawn('true');
    await new Promise((r) => c.on('exit', r)); // one task created: more than the limit
    expect(sorted(busy.trees([a]).get(a))).toEqual(sorted(processTreesByScan([a]).get(a)));
    expect(busy.counts).toMatchObject({ walks: 2, incremental: 0 });
    const w = walker({ resyncEvery: 3, probeLimit: 1_000_000 });
    for (let i = 0; i < 6; i++) w.trees([a]);
    expect(w.counts).toMatchObject({ walks: 2, incremental: 4 });
    expect(sorted(w.trees([a, b]).get(b))).toEqual(sorted(processTreesByScan([b]).get(b))); // b walked on its own
    const full = walker({ incremental: false });
    for (let i = 0; i < 3; i++) full.trees([a]);
    expect(full.counts).toMatchObject({ walks: 3, incremental: 0 });
  });

  it('keeps one stat descriptor per member and closes those of processes that left', async () => {
    const root = tree('sleep 30 & sleep 30 & wait');
    await settled(root, 3);
    const w = walker();
    const t = w.trees([root]).get(root) as number[];
    expect(w.cachedFds).toBe(3);
    process.kill(t[1] as number, 'SIGKILL');
    await settled(root, 2);
    w.trees([root]);
    expect(w.cachedFds).toBe(2);
    w.close();
    expect(w.cachedFds).toBe(0);
  });
});

describe('pidsInGroup and groupMayExist', () => {
  it('answers an emptied group without a scan, and still finds a member the leader left behind', async () => {
    // The leader backgrounds a sleep in its group and exits: the group outlives it.
    // Both listeners are attached before either event can fire: the leader may exit
    // before its echo is read, and an 'exit' listener attached late waits for ever.
    const c = spawn('sh', ['-c', 'sleep 30 >/dev/null & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    started.push(c);
    const pgid = c.pid as number;
    const exited = new Promise((r) => c.once('exit', r));
    const echoed = new Promise<string>((r) => c.stdout?.once('data', (d: Buffer) => r(d.toString())));
    const member = Number(await echoed);
    await exited;
    expect(groupMayExist(pgid)).toBe(true);
    expect(pidsInGroup(pgid)).toEqual([member]);
    process.kill(member, 'SIGKILL');
    for (const deadline = Date.now() + 10_000; groupMayExist(pgid) && Date.now() < deadline;) await sleep(20);
    expect(groupMayExist(pgid)).toBe(false);
    expect(pidsInGroup(pgid)).toEqual([]);
  });

  it('never signals group 0 or 1 (its own group, every process): they may exist', () => {
    expect(groupMayExist(0)).toBe(true);
    expect(groupMayExist(1)).toBe(true);
  });
});
