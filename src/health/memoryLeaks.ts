import type { HealthChecksConfig } from '../config/schema.js';
import { cfgSecs, dur, round1 } from './format.js';
import { LeakDetector, type LeakDetectorOptions, type LeakEvaluation } from './leak/LeakDetector.js';
import { labelOf, type Target } from './Target.js';
import { ok, resultOf, skipped, type CheckContext, type CheckResult, type Finding, type HealthCheck } from './types.js';

/** A leak is restart-worthy only once it has been suspected without a break for this long, s (a fifth of `window`). */
export const leakConfirmSeconds = (windowSeconds: number): number => windowSeconds / 5;
/** Under `restart_horizon / URGENT_DIVISOR` from the limit, a leak is restarted at once, not after the task. */
export const URGENT_DIVISOR = 6;

interface Suspicion {
  subject: string;
  /** Epoch ms of the first leak verdict of the current unbroken run. */
  since: number;
  ev: LeakEvaluation;
  what: string;
}

interface Series {
  incarnation: string | undefined;
  lastSampleAt: number;
  /** The last judgement, reused until `minGapMs` later. */
  last: { at: number; rss: LeakEvaluation; heap: LeakEvaluation | undefined } | undefined;
  rss: LeakDetector;
  /** Heap after GC, when the Node SDK reports it. */
  heap: LeakDetector;
  lastHeap: number | undefined;
  /** Unbroken leak suspicions by subject (`rss`, `heap`). */
  suspected: Map<string, Suspicion>;
  /** The leak of the previous process, kept until the new process has been judged (past its warm-up). */
  carried: Map<string, Suspicion & { endedAt: number }>;
}

/**
 * memoryLeaks: one LeakDetector per replica on its tree's RSS (fed at every
 * sampling round), and one on heap-after-GC when the Node SDK reports it. Both
 * series start again when the process restarts, so the warm-up is excluded after
 * every start. The action is proportional to the danger:
 * - a suspected leak is `degraded`, with its rate and the projected time to
 *   `resource_usage.max_memory_mb` (an alert, no restart);
 * - once suspected for `leakConfirmSeconds(window)` without a break, and projected to
 *   reach the limit within `restart_horizon`, it is `unhealthy` and asks for a restart
 *   after the current task (drain); within `restart_horizon / 6` (`leak_urgent`) at once.
 * A leak survives the restart it caused as a degraded finding until the new process
 * has been judged: it clears if the new one does not leak and is raised again if it does.
 */
export class MemoryLeakCheck implements HealthCheck {
  readonly name = 'memory_leaks' as const;
  private readonly series = new Map<string, Series>();
  private readonly options: LeakDetectorOptions;
  private readonly minGapMs: number;
  private readonly confirmMs: number;

  /**
   * @param sampleIntervalMs the sampling interval. A series is judged at most once per sampling
   * interval and per window / 60 (5 s by default), however often the check runs: the verdict
   * cannot change faster, and judging a full window costs about 1–3 ms per series (bench/leak-corpus.ts).
   * At 50 agents and 1 s sampling it was a third or more of an idle supervisor's CPU (docs/health.md).
   */
  constructor(private readonly cfg: HealthChecksConfig['memory_leaks'], readonly intervalMs: number, maxMemoryMb: number, sampleIntervalMs = 0) {
    this.options = { windowSeconds: cfg.window, warmupSeconds: cfg.warmup, minGrowthMbPerMin: cfg.min_growth_mb_per_min, minRSquared: cfg.min_r_squared, maxMemoryMb };
    this.minGapMs = Math.max(sampleIntervalMs, (cfg.window * 1000) / 60);
    this.confirmMs = leakConfirmSeconds(cfg.window) * 1000;
  }

  observe(targets: readonly Target[], ctx: CheckContext): void {
    for (const t of targets) {
      const s = ctx.sample(t.pid);
      if (!s || t.state !== 'running') continue;
      const x = this.seriesOf(t, ctx.now);
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
    const x = this.series.get(t.id);
    if (t.pid === undefined || t.state !== 'running') {
      // Between the old process and the new one (stopping, backoff): the leak it had stays on record.
      const kept = x ? [...x.suspected.values(), ...x.carried.values()] : [];
      if (!kept.length) return skipped(t.state);
      return resultOf('leaked before the restart', kept.map((s) => this.carriedFinding(t, s, 'restarting')));
    }
    this.observe([t], ctx);
    const s = this.seriesOf(t, ctx.now);
    if (!s.last || ctx.now - s.last.at >= this.minGapMs) {
      s.last = { at: ctx.now, rss: s.rss.evaluate(ctx.now), heap: s.lastHeap !== undefined ? s.heap.evaluate(ctx.now) : undefined };
      this.track(s, 'rss', 'resident memory (RSS)', s.last.rss, ctx.now);
      if (s.last.heap) this.track(s, 'heap', 'heap after GC', s.last.heap, ctx.now);
    }
    const { rss } = s.last;
    const measurements = { growth_bytes_per_second: rss.status === 'warming_up' ? 0 : rss.slopeBytesPerSecond };
    const findings: Finding[] = [...s.suspected.values()].map((sus) => this.finding(t, sus, ctx.now));
    for (const [subject, c] of s.carried) if (!s.suspected.has(subject)) findings.push(this.carriedFinding(t, c, 'warming up'));
    const rate = `${rss.mbPerMinute >= 0 ? '+' : ''}${rss.mbPerMinute.toFixed(rss.status === 'leak_suspected' ? 1 : 2)} MB/min`;
    if (findings.length) return resultOf(rss.status === 'warming_up' ? 'warming up (leaked before the restart)' : rate, findings, measurements);
    if (rss.status === 'warming_up') return ok('warming up', measurements);
    // Why a growing series is not a leak: the gate that rejected it, with its slope and R².
    return ok(rss.mbPerMinute >= this.cfg.min_growth_mb_per_min ? `${rate}, R² ${rss.rSquared.toFixed(2)}: not a leak (${rss.gate}: ${rss.reason})` : rate, measurements);
  }

  forget(id: string): void {
    this.series.delete(id);
  }

  /** Keeps the unbroken run of suspicions of one subject; a verdict past the warm-up settles what was carried over. */
  private track(s: Series, subject: string, what: string, ev: LeakEvaluation, now: number): void {
    if (ev.status !== 'warming_up') s.carried.delete(subject);
    if (ev.status === 'leak_suspected') {
      const prev = s.suspected.get(subject);
      s.suspected.set(subject, { subject, since: prev?.since ?? now, ev, what });
    } else s.suspected.delete(subject);
  }

  /** The finding of a leak suspected since `sus.since`: degraded, or unhealthy once confirmed and within `restart_horizon` of the limit. */
  private finding(t: Target, sus: Suspicion, now: number): Finding {
    const { ev, what, subject } = sus;
    const eta = ev.projectedSecondsToLimit;
    const horizon = this.cfg.restart_horizon;
    const confirmed = now - sus.since >= this.confirmMs;
    const urgent = eta !== undefined && eta < horizon / URGENT_DIVISOR;
    const restart = confirmed && eta !== undefined && eta < horizon;
    const projection = eta === undefined ? '' : eta <= 0 ? '; already over max_memory_mb' : `; at this rate it reaches max_memory_mb in ${dur(eta * 1000)}`;
    const action = !restart
      ? eta !== undefined && eta < horizon
        ? ` (under restart_horizon ${cfgSecs(horizon)}: restarted if it is still suspected ${dur(this.confirmMs - (now - sus.since))} from now)`
        : ` (restart_horizon ${cfgSecs(horizon)}: no restart yet)`
      : urgent
        ? ` — under restart_horizon / ${URGENT_DIVISOR} (${cfgSecs(horizon / URGENT_DIVISOR)}): restart now`
        : ` — under restart_horizon ${cfgSecs(horizon)}: restart once its current task is done`;
    return {
      check: 'memory_leaks', kind: 'memory_leak', subject, severity: restart ? 'unhealthy' : 'degraded', value: round1(ev.mbPerMinute), threshold: this.cfg.min_growth_mb_per_min, unit: 'MB/min',
      since: sus.since - ev.windowSeconds * 1000, diagnosis: restart && urgent ? 'leak_urgent' : 'leak', restart, restartAfterTask: restart && !urgent,
      message: `${labelOf(t)}: ${what} growing ${ev.mbPerMinute.toFixed(1)} MB/min (R² ${ev.rSquared.toFixed(2)}) steadily for ${dur(ev.windowSeconds * 1000)} (min_growth_mb_per_min ${this.cfg.min_growth_mb_per_min}, window ${cfgSecs(this.cfg.window)}) — looks like a memory leak${projection}${action}`,
    };
  }

  /** The previous process's leak, kept (degraded, no restart) until the new one has been judged. */
  private carriedFinding(t: Target, sus: Suspicion, now: 'restarting' | 'warming up'): Finding {
    const { ev, what } = sus;
    return {
      check: 'memory_leaks', kind: 'memory_leak', subject: sus.subject, severity: 'degraded', value: round1(ev.mbPerMinute),
      threshold: this.cfg.min_growth_mb_per_min, unit: 'MB/min', since: sus.since - ev.windowSeconds * 1000, diagnosis: 'leak', restart: false,
      message: `${labelOf(t)}: the previous process's ${what} grew ${ev.mbPerMinute.toFixed(1)} MB/min (R² ${ev.rSquared.toFixed(2)}) — a suspected memory leak; the new process is ${now === 'restarting' ? 'not running yet' : `warming up (judged after warmup ${cfgSecs(this.cfg.warmup)} + ${cfgSecs(0.6 * this.cfg.window)})`}, and this finding stays until it shows whether it leaks too`,
    };
  }

  private seriesOf(t: Target, now: number): Series {
    let x = this.series.get(t.id);
    if (!x) {
      x = { incarnation: t.incarnation, lastSampleAt: -Infinity, last: undefined, rss: new LeakDetector(this.options), heap: new LeakDetector(this.options), lastHeap: undefined, suspected: new Map(), carried: new Map() };
      this.series.set(t.id, x);
    } else if (x.incarnation !== t.incarnation) {
      // A restart: the new process warms up again and its memory is not the old one's; its leak is carried over.
      x.rss.reset();
      x.heap.reset();
      for (const [subject, sus] of x.suspected) x.carried.set(subject, { ...sus, endedAt: now });
      Object.assign(x, { incarnation: t.incarnation, lastSampleAt: -Infinity, last: undefined, lastHeap: undefined, suspected: new Map() });
    }
    return x;
  }
}
