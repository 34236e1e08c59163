import pidusage from 'pidusage';
import { readOnce } from './procFiles.js';
import { CLOCK_TICKS, pageSize } from './procfs.js';
import { ProcessTreeWalker, type ProcessTreeWalkerOptions } from './processTrees.js';

export interface ResourceSample {
  at: number;
  /** CPU of the whole tree in percent of one core (100 = one core busy). */
  cpuPercent: number;
  /** Resident memory of the whole tree, bytes. */
  rssBytes: number;
  /** Number of processes in the tree. */
  processes: number;
}

/** How many rounds of cumulative CPU the sampler keeps per tree, for averages over a window. */
const CPU_HISTORY = 120;

/**
 * What one round knows of one process: CPU time used since it started and RSS; for
 * a first sample, its age (pidusage) or its start time since boot (/proc), all ms.
 */
interface ProcUsage { ctime: number; memory: number; elapsed?: number; startMs?: number }

/**
 * Samples CPU and RSS of each agent's whole process tree (agents spawn children:
 * claude, shells): the trees come from {@link ProcessTreeWalker}, which reads the
 * agents' own /proc entries and those of processes created since the last round,
 * not every process on the host. The walker reads every member's /proc/<pid>/stat
 * in that round anyway (state, parent, start time), and the same line holds its
 * CPU times and RSS: they are taken from there, with no second pass. Where the
 * walker could not read them (no /proc children files: it scanned the host, or no
 * /proc at all, macOS), one batched pidusage call per round over every pid of every
 * tree instead.
 *
 * pidusage keeps a descriptor on each pid's stat file and re-reads it next round;
 * entries it was not asked for expire after `maxage` and their descriptors close.
 * (Its `clear()` forgets the entries without closing their descriptors, so calling
 * it every round leaked one descriptor per process per round.)
 */
export class ResourceSampler {
  private readonly latest = new Map<number, ResourceSample>();
  /** Previous ctime per pid: CPU% is the ctime delta over the wall-clock delta between rounds. */
  private prevCpu = new Map<number, { ctime: number; ts: number }>();
  /**
   * Per tree root, the CPU ms the tree used since it was first sampled, after each
   * round (oldest first, at most CPU_HISTORY rounds): a stall's diagnosis averages
   * over the whole stall, not one round, where one 10 ms clock tick is 2 % at 0.5 s.
   */
  private readonly cpuHistory = new Map<number, { at: number; cpuMs: number }[]>();
  private readonly walker: ProcessTreeWalker;
  private lastRoundMs = 0;
  private lastRoundAt: number | undefined;

  private readonly viaPidusage: boolean;

  /** `pidusage: true` reads CPU and RSS through pidusage even where the walk read them (the fallback's path, for tests). */
  constructor(opts: ProcessTreeWalkerOptions & { pidusage?: boolean } = {}) {
    this.walker = new ProcessTreeWalker(opts);
    this.viaPidusage = opts.pidusage ?? false;
  }

  /** Duration of the last sampling round, ms. */
  get lastRoundDurationMs(): number {
    return this.lastRoundMs;
  }

  /** How the trees were found so far: full walks, incremental rounds, whole-host scans (no children files), pids probed. */
  get treeRounds(): Readonly<ProcessTreeWalker['counts']> {
    return this.walker.counts;
  }

  async sample(rootPids: readonly number[]): Promise<Map<number, ResourceSample>> {
    const t0 = performance.now();
    const started = Date.now();
    // Long enough that pidusage re-reads its open descriptors from round to round;
    // short enough that a pid reused after the process left the trees (a descriptor
    // of a dead process fails for ever) is not asked for while its entry lives.
    const gap = this.lastRoundAt === undefined ? 0 : started - this.lastRoundAt;
    const maxage = Math.min(120_000, Math.max(10_000, 3 * gap));
    this.lastRoundAt = started;
    const trees = this.walker.trees(rootPids);
    const usage = (this.viaPidusage ? undefined : this.fromWalk(trees)) ?? await this.fromPidusage(trees, maxage);
    const now = Date.now();
    const result = new Map<number, ResourceSample>();
    const nextCpu = new Map<number, { ctime: number; ts: number }>();
    let uptimeMs: number | undefined;
    const cpuOf = (pid: number, u: ProcUsage): number => {
      nextCpu.set(pid, { ctime: u.ctime, ts: now });
      const prev = this.prevCpu.get(pid);
      if (prev && now > prev.ts) return Math.max(0, ((u.ctime - prev.ctime) / (now - prev.ts)) * 100);
      const elapsed = u.elapsed ?? (uptimeMs ??= readUptimeMs()) - (u.startMs ?? 0);
      return elapsed > 0 ? (u.ctime / elapsed) * 100 : 0; // first sample: lifetime average
    };
    const history = new Map<number, { at: number; cpuMs: number }[]>();
    for (const [root, pids] of trees) {
      const past = this.cpuHistory.get(root);
      let cpu = 0;
      let usedMs = 0;
      let rss = 0;
      let n = 0;
      for (const p of pids) {
        const s = usage.get(p);
        if (!s) continue;
        const prev = this.prevCpu.get(p);
        // a process new to a known tree ran all of its ctime since the last round
        if (past) usedMs += prev ? Math.max(0, s.ctime - prev.ctime) : s.ctime;
        cpu += cpuOf(p, s);
        rss += s.memory;
        n++;
      }
      if (!n) continue;
      result.set(root, { at: now, cpuPercent: cpu, rssBytes: rss, processes: n });
      const h = past ?? [];
      h.push({ at: now, cpuMs: (h.at(-1)?.cpuMs ?? 0) + usedMs });
      if (h.length > CPU_HISTORY) h.shift();
      history.set(root, h);
    }
    this.cpuHistory.clear();
    for (const [k, v] of history) this.cpuHistory.set(k, v);
    this.prevCpu = nextCpu;
    this.latest.clear();
    for (const [k, v] of result) this.latest.set(k, v);
    this.lastRoundMs = performance.now() - t0;
    return result;
  }

  /** Every member's CPU time and RSS from the stat lines the walk just read; undefined when the walk read none (see the class). */
  private fromWalk(trees: Map<number, number[]>): Map<number, ProcUsage> | undefined {
    if (!this.walker.readsStats) return undefined;
    const out = new Map<number, ProcUsage>();
    const page = pageSize();
    for (const pids of trees.values()) {
      for (const p of pids) {
        const st = this.walker.statOf(p);
        if (st) out.set(p, { ctime: ((st.utime + st.stime) * 1000) / CLOCK_TICKS, memory: st.rssPages * page, startMs: (st.startTime * 1000) / CLOCK_TICKS });
      }
    }
    return out;
  }

  private async fromPidusage(trees: Map<number, number[]>, maxage: number): Promise<Map<number, ProcUsage>> {
    const all = [...new Set([...trees.values()].flat())];
    let stats: Record<string, pidusage.Status | undefined> = {};
    if (all.length) {
      try {
        // Batched and graceful: a pid that exited since the walk is just missing from the result.
        stats = await pidusage(all, { maxage });
      } catch {
        // a single pid that vanished rejects the whole call: sample one by one
        stats = {};
        await Promise.all(all.map(async (p) => {
          try { stats[p] = await pidusage(p, { maxage }); } catch { /* gone */ }
        }));
      }
    }
    const out = new Map<number, ProcUsage>();
    for (const p of all) {
      const s = stats[p];
      if (s) out.set(p, { ctime: s.ctime, memory: s.memory, elapsed: s.elapsed });
    }
    return out;
  }

  get(pid: number | undefined): ResourceSample | undefined {
    return pid === undefined ? undefined : this.latest.get(pid);
  }

  /**
   * The average CPU% of the tree rooted at `pid` over the longest kept span that lies
   * entirely after `sinceMs`, or undefined when that span is shorter than `minSpanMs`
   * (no round yet covers only time after it).
   */
  cpuPercentSince(pid: number, sinceMs: number, minSpanMs: number): number | undefined {
    const h = this.cpuHistory.get(pid);
    const last = h?.at(-1);
    if (!h || !last) return undefined;
    const first = h.find((e) => e.at >= sinceMs);
    if (!first || last.at - first.at < Math.max(1, minSpanMs)) return undefined;
    return ((last.cpuMs - first.cpuMs) / (last.at - first.at)) * 100;
  }

  /** Closes the descriptors the tree walk keeps (pidusage's close when their entries expire). */
  close(): void {
    this.walker.close();
  }
}

/** Time since boot, ms (/proc/uptime); 0 when unreadable (a first sample then reads as 0 %). */
function readUptimeMs(): number {
  const s = Number(readOnce('/proc/uptime')?.split(' ')[0]);
  return Number.isFinite(s) ? s * 1000 : 0;
}
