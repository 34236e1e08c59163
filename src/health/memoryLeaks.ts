import type { HealthChecksConfig } from '../config/schema.js';
import { cfgSecs, dur, round1 } from './format.js';
import { LeakDetector, type LeakDetectorOptions, type LeakEvaluation } from './leak/LeakDetector.js';
import { labelOf, type Target } from './Target.js';
import { ok, resultOf, skipped, type CheckContext, type CheckResult, type Finding, type HealthCheck } from './types.js';

interface Series {
  incarnation: string | undefined;
  lastSampleAt: number;
  /** The last judgement, reused until `minGapMs` later. */
  last: { at: number; rss: LeakEvaluation; heap: LeakEvaluation | undefined } | undefined;
  rss: LeakDetector;
  /** Heap after GC, when the Node SDK reports it. */
  heap: LeakDetector;
  lastHeap: number | undefined;
}

/**
 * memory_leaks: one LeakDetector per replica on its tree's RSS (fed at every
 * sampling round), and one on heap-after-GC when the Node SDK reports it. Both
 * series start again when the process restarts, so the warm-up is excluded after
 * every start. A suspected leak in either series is unhealthy, with the growth in
 * MB/min and the projected time to `resource_usage.max_memory_mb`.
 */
export class MemoryLeakCheck implements HealthCheck {
  readonly name = 'memory_leaks' as const;
  private readonly series = new Map<string, Series>();
  private readonly options: LeakDetectorOptions;

  private readonly minGapMs: number;

  /**
   * @param sampleIntervalMs the sampling interval. A series is judged at most once per sampling
   * interval and per window / 60 (5 s by default), however often the check runs: the verdict
   * cannot change faster, and judging a full window costs about 0.3 ms per series.
   */
  constructor(private readonly cfg: HealthChecksConfig['memory_leaks'], readonly intervalMs: number, maxMemoryMb: number, sampleIntervalMs = 0) {
    this.options = { windowSeconds: cfg.window, warmupSeconds: cfg.warmup, minGrowthMbPerMin: cfg.min_growth_mb_per_min, minRSquared: cfg.min_r_squared, maxMemoryMb };
    this.minGapMs = Math.max(sampleIntervalMs, (cfg.window * 1000) / 60);
  }

  observe(targets: readonly Target[], ctx: CheckContext): void {
    for (const t of targets) {
      const s = ctx.sample(t.pid);
      if (!s) continue;
      const x = this.seriesOf(t);
      if (s.at <= x.lastSampleAt) continue;
      x.lastSampleAt = s.at;
      x.rss.add(s.at, s.rssBytes);
      // heap_after_gc changes only at a major GC: sample its current value on the same clock.
      if (t.heapAfterGcBytes !== undefined) {
        x.heap.add(s.at, t.heapAfterGcBytes);
        x.lastHeap = t.heapAfterGcBytes;
      }
    }
  }

  evaluate(t: Target, ctx: CheckContext): CheckResult {
    if (t.pid === undefined || t.state !== 'running') return skipped(t.state);
    this.observe([t], ctx);
    const x = this.seriesOf(t);
    if (!x.last || ctx.now - x.last.at >= this.minGapMs) {
      x.last = { at: ctx.now, rss: x.rss.evaluate(ctx.now), heap: x.lastHeap !== undefined ? x.heap.evaluate(ctx.now) : undefined };
    }
    const { at, rss, heap } = x.last;
    const measurements = { growth_bytes_per_second: rss.status === 'warming_up' ? 0 : rss.slopeBytesPerSecond };
    const findings: Finding[] = [];
    if (rss.status === 'leak_suspected') findings.push(this.finding(t, at, rss, 'rss', 'resident memory (RSS)'));
    if (heap?.status === 'leak_suspected') findings.push(this.finding(t, at, heap, 'heap', 'heap after GC'));
    if (findings.length) return resultOf(`+${rss.mbPerMinute.toFixed(1)} MB/min`, findings, measurements);
    if (rss.status === 'warming_up') return ok('warming up', measurements);
    return ok(`${rss.mbPerMinute >= 0 ? '+' : ''}${rss.mbPerMinute.toFixed(2)} MB/min`, measurements);
  }

  forget(id: string): void {
    this.series.delete(id);
  }

  /** A finding from the judgement made at `at` (epoch ms). */
  private finding(t: Target, at: number, ev: LeakEvaluation, subject: string, what: string): Finding {
    const eta = ev.projectedSecondsToLimit;
    const projection = eta === undefined ? '' : eta <= 0 ? '; already over max_memory_mb' : `; at this rate it reaches max_memory_mb in ${dur(eta * 1000)}`;
    return {
      check: 'memory_leaks', kind: 'memory_leak', subject, severity: 'unhealthy', value: round1(ev.mbPerMinute), threshold: this.cfg.min_growth_mb_per_min, unit: 'MB/min',
      since: at - ev.windowSeconds * 1000, diagnosis: 'leak', restart: true,
      message: `${labelOf(t)}: ${what} growing ${ev.mbPerMinute.toFixed(1)} MB/min (R² ${ev.rSquared.toFixed(2)}) steadily for ${dur(ev.windowSeconds * 1000)} (min_growth_mb_per_min ${this.cfg.min_growth_mb_per_min}, window ${cfgSecs(this.cfg.window)}) — looks like a memory leak${projection}`,
    };
  }

  private seriesOf(t: Target): Series {
    let x = this.series.get(t.id);
    if (!x) {
      x = { incarnation: t.incarnation, lastSampleAt: -Infinity, last: undefined, rss: new LeakDetector(this.options), heap: new LeakDetector(this.options), lastHeap: undefined };
      this.series.set(t.id, x);
    } else if (x.incarnation !== t.incarnation) {
      // A restart: the new process warms up again and its memory is not the old one's.
      x.rss.reset();
      x.heap.reset();
      Object.assign(x, { incarnation: t.incarnation, lastSampleAt: -Infinity, last: undefined, lastHeap: undefined });
    }
    return x;
  }
}
