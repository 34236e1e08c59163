import { existsSync } from 'node:fs';
import { defaultFdBudget, readOnce, StatFiles } from './procFiles.js';
import { parseStat, readProcStat, safeReaddir, type ProcStat } from './procfs.js';

/** The most processes one tree may hold: a fork bomb in an agent must not stall the sampler. */
export const MAX_TREE = 10_000;

let childrenFiles: boolean | undefined;
/** Whether the kernel has /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN, on in the common distribution kernels). */
export function hasChildrenFiles(): boolean {
  childrenFiles ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  return childrenFiles;
}

/**
 * The process tree under each root pid (root first, then breadth first), without
 * zombies; a root that is gone or a zombie has an empty tree. Children are found
 * through the kernel's parent links, so the tree includes descendants that left
 * the process group (setsid). Walks only these trees through
 * /proc/<pid>/task/<tid>/children; on a kernel without those files, scans the
 * stat file of every process on the host.
 */
export function processTrees(roots: readonly number[]): Map<number, number[]> {
  if (!hasChildrenFiles()) return processTreesByScan(roots);
  const walker = new ProcessTreeWalker({ maxCachedFds: 0, incremental: false });
  try {
    return walker.trees(roots);
  } finally {
    walker.close();
  }
}

/** {@link processTrees} from one scan of every process's /proc/<pid>/stat (children found by ppid). */
export function processTreesByScan(roots: readonly number[]): Map<number, number[]> {
  const children = new Map<number, number[]>();
  const alive = new Set<number>();
  for (const name of safeReaddir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readProcStat(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    alive.add(pid);
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const result = new Map<number, number[]>();
  for (const root of roots) {
    const tree: number[] = alive.has(root) ? [root] : [];
    const seen = new Set(tree);
    for (let i = 0; i < tree.length && tree.length < MAX_TREE; i++) {
      for (const c of children.get(tree[i] as number) ?? []) {
        if (tree.length >= MAX_TREE) break;
        if (!seen.has(c)) { seen.add(c); tree.push(c); }
      }
    }
    result.set(root, tree);
  }
  return result;
}

export interface ProcessTreeWalkerOptions {
  /**
   * Between two full walks, only re-read each member's stat (to drop the exited,
   * the zombies and the reparented) and look at the tasks created on the host since
   * the last round (the last pid in /proc/loadavg tells which: pids are handed out
   * in order), adding those whose parent is a member. Default true; false walks
   * every round.
   */
  incremental?: boolean;
  /** Walk the trees in full every this many rounds all the same (a safety net for a missed task). Default 30. */
  resyncEvery?: number;
  /** Walk instead of probing when more tasks than this were created since the last round. Default max(256, 16 × members). */
  probeLimit?: number;
  /** Most stat descriptors kept open between rounds (re-read with pread: about 7× cheaper than open, read, close). Default: a quarter of the open-file limit, at most 2048. */
  maxCachedFds?: number;
}

interface Member { pid: number; start: number }

/**
 * Keeps the process trees of the agents from round to round at a cost that grows
 * with the trees and with the number of tasks created, not with the host's
 * processes. A full walk follows /proc/<pid>/task/<tid>/children from each root
 * (for every thread: a child belongs to the thread that forked it). Between walks,
 * a round re-reads each member's stat through a kept descriptor and probes the
 * pids handed out since the last round; a full walk runs on the first round, for a
 * new root, every `resyncEvery` rounds, and when so many tasks were created that
 * probing them would cost more. Falls back to {@link processTreesByScan} on a
 * kernel without children files.
 */
export class ProcessTreeWalker {
  private readonly stats: StatFiles;
  private readonly incremental: boolean;
  private readonly resyncEvery: number;
  private readonly probeLimit: number | undefined;
  private prev = new Map<number, Member[]>();
  /** The stat of every member, as read this round; with the text it was parsed from (a text equal to last round's is not parsed again). */
  private round = new Map<number, { text: string; stat: ProcStat }>();
  private last = new Map<number, { text: string; stat: ProcStat }>();
  /** Whether the last round read every member's stat (false after a whole-host scan: no children files). */
  private statsRead = false;
  private lastPid: number | undefined;
  private pidMax: number | undefined;
  private sinceWalk = 0;
  /** Rounds that walked the trees, rounds that updated them incrementally, whole-host scans (no children files), pids probed. */
  readonly counts = { walks: 0, incremental: 0, scans: 0, probed: 0 };

  constructor(opts: ProcessTreeWalkerOptions = {}) {
    this.stats = new StatFiles(opts.maxCachedFds ?? defaultFdBudget());
    this.incremental = opts.incremental ?? true;
    this.resyncEvery = opts.resyncEvery ?? 30;
    this.probeLimit = opts.probeLimit;
  }

  /** Open descriptors kept between rounds (for tests). */
  get cachedFds(): number {
    return this.stats.size;
  }

  /**
   * The stat of a member of the trees of the last {@link trees} round, read during
   * that round (CPU times and RSS included: the sampler needs no second read); undefined
   * when it is not a member or the round scanned the host instead.
   */
  statOf(pid: number): ProcStat | undefined {
    return this.statsRead ? this.round.get(pid)?.stat : undefined;
  }

  /** Whether the last round read the stat of every member ({@link statOf}); false after a whole-host scan. */
  get readsStats(): boolean {
    return this.statsRead;
  }

  trees(roots: readonly number[]): Map<number, number[]> {
    this.last = this.round;
    this.round = new Map();
    if (!hasChildrenFiles()) {
      this.counts.scans++;
      this.statsRead = false;
      return processTreesByScan(roots);
    }
    this.statsRead = true;
    // Read before looking, so a task created while we look is in the next round's range.
    const last = this.incremental ? readLastPid() : undefined;
    const from = this.lastPid;
    this.lastPid = last;
    this.pidMax ??= readPidMax();
    const created = last !== undefined && from !== undefined ? (last - from + this.pidMax) % this.pidMax : undefined;
    let known = 0;
    for (const r of roots) known += this.prev.get(r)?.length ?? 0;
    const next = new Map<number, Member[]>();
    if (created === undefined || this.sinceWalk + 1 >= this.resyncEvery || created > (this.probeLimit ?? Math.max(256, 16 * known))) {
      this.counts.walks++;
      this.sinceWalk = 0;
      for (const root of roots) next.set(root, this.walk(root));
    } else {
      this.counts.incremental++;
      this.sinceWalk++;
      for (const root of roots) {
        const prev = this.prev.get(root);
        next.set(root, prev ? this.validate(root, prev) : this.walk(root));
      }
      if (created > 0) this.probe(next, from as number, created);
    }
    this.prev = next;
    const members = new Set<number>();
    const out = new Map<number, number[]>();
    for (const [root, list] of next) {
      out.set(root, list.map((m) => m.pid));
      for (const m of list) members.add(m.pid);
    }
    this.stats.retain(members);
    for (const pid of this.round.keys()) if (!members.has(pid)) this.round.delete(pid);
    this.last = new Map();
    return out;
  }

  /** Closes every kept descriptor and forgets the trees. */
  close(): void {
    this.stats.closeAll();
    this.prev.clear();
    this.round.clear();
    this.last.clear();
    this.lastPid = undefined;
  }

  private walk(root: number): Member[] {
    const tree: Member[] = [];
    const queue = [root];
    const seen = new Set(queue);
    for (let i = 0; i < queue.length && tree.length < MAX_TREE; i++) {
      const pid = queue[i] as number;
      const st = this.stat(pid);
      if (!st || st.state === 'Z' || st.state === 'X') continue; // gone, or a zombie (its children went to a reaper)
      tree.push({ pid, start: st.startTime });
      for (const tid of safeReaddir(`/proc/${pid}/task`)) {
        const text = readOnce(`/proc/${pid}/task/${tid}/children`);
        if (!text) continue;
        for (const word of text.split(' ')) {
          const c = Number(word);
          if (word && Number.isInteger(c) && !seen.has(c)) { seen.add(c); queue.push(c); }
        }
      }
    }
    return tree;
  }

  /** The members still alive, not zombies, the same process (start time), and still the child of a kept member. */
  private validate(root: number, prev: Member[]): Member[] {
    const kept = new Set<number>();
    const out: Member[] = [];
    for (const m of prev) {
      const st = this.stat(m.pid);
      if (!st || st.state === 'Z' || st.state === 'X' || st.startTime !== m.start) continue;
      if (m.pid !== root && !kept.has(st.ppid)) continue;
      kept.add(m.pid);
      out.push(m);
    }
    return out;
  }

  /**
   * Adds the processes among the `count` pids handed out after `from` whose parent
   * is a member, in the order they were created (a parent before its children).
   */
  private probe(trees: Map<number, Member[]>, from: number, count: number): void {
    const pidMax = this.pidMax as number;
    const rootOf = new Map<number, number>();
    for (const [root, list] of trees) for (const m of list) rootOf.set(m.pid, root);
    for (let k = 1; k <= count; k++) {
      let pid = from + k;
      if (pid >= pidMax) pid -= pidMax;
      if (pid <= 0 || rootOf.has(pid)) continue;
      this.counts.probed++;
      const text = readOnce(`/proc/${pid}/stat`);
      if (text === undefined) continue; // already gone
      const st = parseStat(pid, text);
      this.round.set(pid, { text, stat: st });
      const root = st.state === 'Z' || st.state === 'X' ? undefined : rootOf.get(st.ppid);
      if (root === undefined) continue;
      // A thread has a pid too, and its stat names its process's parent: keep processes only.
      const tgid = /^Tgid:\s*(\d+)/m.exec(readOnce(`/proc/${pid}/status`) ?? '')?.[1];
      if (Number(tgid) !== pid) continue;
      const tree = trees.get(root) as Member[];
      if (tree.length >= MAX_TREE) continue;
      tree.push({ pid, start: st.startTime });
      rootOf.set(pid, root);
    }
  }

  private stat(pid: number): ProcStat | undefined {
    const text = this.stats.read(pid);
    if (text === undefined) return undefined;
    const before = this.round.get(pid) ?? this.last.get(pid);
    const stat = before?.text === text ? before.stat : parseStat(pid, text);
    this.round.set(pid, { text, stat });
    return stat;
  }
}

/** The last pid handed out in this pid namespace (5th field of /proc/loadavg). */
function readLastPid(): number | undefined {
  const n = Number(readOnce('/proc/loadavg')?.split(' ')[4]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function readPidMax(): number {
  const n = Number(readOnce('/proc/sys/kernel/pid_max')?.trim());
  return Number.isInteger(n) && n > 0 ? n : 4_194_304;
}
