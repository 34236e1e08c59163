import pidusage from 'pidusage';
import { processTrees } from './procfs.js';

export interface ResourceSample {
  at: number;
  /** CPU of the whole tree in percent of one core (100 = one core busy). */
  cpuPercent: number;
  /** Resident memory of the whole tree, bytes. */
  rssBytes: number;
  /** Number of processes in the tree. */
  processes: number;
}

/**
 * Samples CPU and RSS of each agent's whole process tree (agents spawn children:
 * claude, shells) with one /proc scan and one batched pidusage call per round.
 */
export class ResourceSampler {
  private readonly latest = new Map<number, ResourceSample>();
  /** Previous ctime per pid: CPU% is the ctime delta over the wall-clock delta between rounds. */
  private prevCpu = new Map<number, { ctime: number; ts: number }>();
  private lastRoundMs = 0;

  /** Duration of the last sampling round, ms. */
  get lastRoundDurationMs(): number {
    return this.lastRoundMs;
  }

  async sample(rootPids: readonly number[]): Promise<Map<number, ResourceSample>> {
    const t0 = performance.now();
    const trees = processTrees(rootPids);
    const all = [...new Set([...trees.values()].flat())];
    let stats: Record<string, pidusage.Status> = {};
    if (all.length) {
      try {
        stats = await pidusage(all);
      } catch {
        // a pid vanished between the scan and the call: sample one by one
        stats = {};
        await Promise.all(all.map(async (p) => {
          try { stats[p] = await pidusage(p); } catch { /* gone */ }
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
    for (const [root, pids] of trees) {
      let cpu = 0;
      let rss = 0;
      let n = 0;
      for (const p of pids) {
        const s = stats[p];
        if (!s) continue;
        cpu += cpuOf(p, s);
        rss += s.memory;
        n++;
      }
      if (n) result.set(root, { at: now, cpuPercent: cpu, rssBytes: rss, processes: n });
    }
    this.prevCpu = nextCpu;
    this.latest.clear();
    for (const [k, v] of result) this.latest.set(k, v);
    // pidusage keeps per-pid history we do not use (we keep our own): drop it so it cannot grow.
    pidusage.clear();
    this.lastRoundMs = performance.now() - t0;
    return result;
  }

  get(pid: number | undefined): ResourceSample | undefined {
    return pid === undefined ? undefined : this.latest.get(pid);
  }
}
