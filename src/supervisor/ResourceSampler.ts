import pidusage from 'pidusage';
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
 * Samples CPU and RSS of each agent's whole process tree (agents spawn children:
 * claude, shells): the trees come from {@link ProcessTreeWalker}, which reads the
 * agents' own /proc entries and those of processes created since the last round,
 * not every process on the host; then one batched pidusage call per round over
 * every pid of every tree.
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

  constructor(opts: ProcessTreeWalkerOptions = {}) {
    this.walker = new ProcessTreeWalker(opts);
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
    const now = Date.now();
    const result = new Map<number, ResourceSample>();
    const nextCpu = new Map<number, { ctime: number; ts: number }>();
    const cpuOf = (pid: number, s: pidusage.Status): number => {
      nextCpu.set(pid, { ctime: s.ctime, ts: s.timestamp });
      const prev = this.prevCpu.get(pid);
      if (prev && s.timestamp > prev.ts) return Math.max(0, ((s.ctime - prev.ctime) / (s.timestamp - prev.ts)) * 100);
      return s.elapsed > 0 ? (s.ctime / s.elapsed) * 100 : 0; // first sample: lifetime average
    };
    const history = new Map<number, { at: number; cpuMs: number }[]>();
    for (const [root, pids] of trees) {
      const past = this.cpuHistory.get(root);
      let cpu = 0;
      let usedMs = 0;
      let rss = 0;
      let n = 0;
      for (const p of pids) {
        const s = stats[p];
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
