import { fmt, idle, judgeSpan, pointsToFit, type LeakEvaluation } from './judgeSpan.js';
import { SampleBuffer } from './SampleBuffer.js';
import { isSaturating } from './series.js';

/**
 * Detects sustained memory growth in one agent's memory series (RSS, or heap
 * after GC when the Node SDK reports it), telling a leak from a GC sawtooth
 * and from a cache that fills and then plateaus.
 *
 * Algorithm, run by `evaluate(now)` on the buffered samples:
 * 1. Warm-up: samples within `warmupSeconds` of the series start (the first
 *    sample after construction or `reset()`, i.e. after a restart) are ignored.
 *    Nothing is judged until `minSpanSeconds` of post-warm-up data exist.
 * 2. Points to fit: a series with a GC sawtooth (at least two big drops from
 *    one sample to the next and few big jumps up) is reduced to its lower
 *    envelope, the minimum of slices 1.5 × the median time between drops wide
 *    (at least 2 × `bucketSeconds`), so only the post-GC troughs remain.
 *    Without a sawtooth every sample is fitted, which is what white noise
 *    needs (judgeSpan.ts, series.ts). Under a sawtooth each half of the span
 *    must hold two collections (the floor is seen only just after one).
 * 3. Trend: a Theil–Sen line through those points must grow by at least
 *    `minGrowthMbPerMin` with R² ≥ `minRSquared`, and the rise it predicts
 *    over the span must exceed 3 × the sample noise σ and 1.5 × the median
 *    per-sample step (so a noisy flat series, or a fast sawtooth whose troughs
 *    alias against the sampling interval, cannot fake it). Under a sawtooth
 *    the growth must reach `minGrowthMbPerMin` without any one collection.
 * 4. Persistence across sub-windows: the floor (minimum) of each third of the
 *    span must rise above the previous third's by half of what the trend
 *    predicts. A sawtooth, a one-off step or a restart-like drop fails this.
 * 5. No levelling off: the slope of the span's second half must reach
 *    `minGrowthMbPerMin` and half of the first half's slope (a cache that
 *    fills and plateaus fails this). Nor has it stopped: the last third is not
 *    flat, a staircase has not outlasted its longest gap between steps, and
 *    under a sawtooth each half rose as the trend says, within aliasing and
 *    noise (judgeSpan.ts).
 * Steps 2–5 run on the whole window and, when it is longer, on the last
 * `minSpanSeconds` alone, so a leak that starts late in a flat window is seen
 * after `minSpanSeconds`; unless the whole window levels off or its floor fell
 * (memory was given back: a refill after a collection is not a leak yet).
 * 6. No saturation: over the post-warm-up history (up to 3 windows), the
 *    slope of the points of step 2 must not fall below 0.6 × the previous third's twice in a
 *    row, the signature of a slow exponential warm-up.
 * 7. Persistence in time: steps 1–6 must also conclude "leak" when judged
 *    `bucketSeconds / 3` and twice that earlier (5 s and 10 s by default).
 * Each evaluation is a pure function of the buffered samples.
 */

const MiB = 1024 * 1024;
/** A third's slope below this × the previous one's counts as slowing (step 6). */
const SATURATION_RATIO = 0.6;
/** History judged for saturation, in windows (step 6). */
const HISTORY_WINDOWS = 3;
/** Consecutive verdicts, `bucketSeconds / 3` apart, that must agree on a leak (step 7). */
const PERSIST_STEPS = 3;

export interface LeakDetectorOptions {
  /** Look-back window in seconds (memory_leaks.window). Default 300. */
  readonly windowSeconds?: number;
  /** Seconds after the series start whose samples are ignored (memory_leaks.warmup). Default 60. */
  readonly warmupSeconds?: number;
  /** Growth in MB (MiB) per minute below which nothing is a leak (memory_leaks.min_growth_mb_per_min). Default 1. */
  readonly minGrowthMbPerMin?: number;
  /** Minimum R² of the envelope trend, 0–1 (memory_leaks.min_r_squared). Default 0.6. */
  readonly minRSquared?: number;
  /** Memory limit in MB (MiB) for the time-to-limit projection (resource_usage.max_memory_mb). Default: no projection. */
  readonly maxMemoryMb?: number;
  /** Shortest span of post-warm-up data judged, seconds. Default 0.6 × window. */
  readonly minSpanSeconds?: number;
  /** Half the narrowest lower-envelope slice, and 3 × the step of the persistence check, seconds. Default window / 20. */
  readonly bucketSeconds?: number;
}

export type { LeakEvaluation, LeakGate, LeakStatus } from './judgeSpan.js';

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`Expected \`${name}\` to be a positive number, got \`${String(v)}\` (${typeof v})`);
  return v;
}

export class LeakDetector {
  private readonly window: number;
  private readonly warmup: number;
  private readonly minSlope: number; // bytes per second
  private readonly minR2: number;
  private readonly limitBytes: number | undefined;
  private readonly minSpan: number;
  private readonly bucket: number;
  private readonly buf = new SampleBuffer();
  private start: number | undefined;

  /** @throws RangeError when an option is not a positive number or minRSquared is outside 0–1. */
  constructor(options: LeakDetectorOptions = {}) {
    this.window = positive('windowSeconds', options.windowSeconds, 300);
    this.warmup = options.warmupSeconds === 0 ? 0 : positive('warmupSeconds', options.warmupSeconds, 60);
    this.minSlope = (positive('minGrowthMbPerMin', options.minGrowthMbPerMin, 1) * MiB) / 60;
    this.minR2 = options.minRSquared ?? 0.6;
    if (!(this.minR2 >= 0 && this.minR2 <= 1)) throw new RangeError(`Expected \`minRSquared\` to be between 0 and 1, got \`${String(this.minR2)}\``);
    this.limitBytes = options.maxMemoryMb === undefined ? undefined : positive('maxMemoryMb', options.maxMemoryMb, 0) * MiB;
    this.minSpan = Math.min(this.window, positive('minSpanSeconds', options.minSpanSeconds, 0.6 * this.window));
    this.bucket = positive('bucketSeconds', options.bucketSeconds, this.window / 20);
  }

  /**
   * Feeds one sample. Samples not newer than the last one are ignored.
   * @returns whether the sample was kept.
   * @throws RangeError when `bytes` is negative or either argument is not finite.
   */
  add(tMs: number, bytes: number): boolean {
    if (!Number.isFinite(tMs) || !Number.isFinite(bytes) || bytes < 0) {
      throw new RangeError(`Expected a finite time and a non-negative byte count, got \`${tMs}\` ms and \`${bytes}\` bytes`);
    }
    const t = tMs / 1000;
    const last = this.buf.lastT();
    if (last !== undefined && t <= last) return false;
    this.start ??= t;
    this.buf.push(t, bytes);
    this.buf.dropBefore(t - HISTORY_WINDOWS * this.window - this.bucket);
    return true;
  }

  /** Forgets the series (call when the agent restarts): warm-up starts again at the next sample. */
  reset(): void {
    this.buf.clear();
    this.start = undefined;
  }

  /**
   * Judges the samples up to `nowMs`. A leak is reported only when the verdict
   * also held `bucketSeconds / 3` and twice that earlier (step 7), so one
   * noisy evaluation cannot raise it.
   */
  evaluate(nowMs: number): LeakEvaluation {
    const verdict = this.verdictAt(nowMs / 1000);
    if (verdict.status !== 'leak_suspected') return verdict;
    const gap = this.bucket / 3;
    for (let k = 1; k < PERSIST_STEPS; k++) {
      if (this.verdictAt(nowMs / 1000 - k * gap).status !== 'leak_suspected') {
        const { projectedSecondsToLimit: _, ...rest } = verdict;
        return { ...rest, status: 'ok', gate: 'persistence', reason: `${verdict.reason}, but not yet for ${fmt((PERSIST_STEPS - 1) * gap)} s in a row` };
      }
    }
    return verdict;
  }

  private verdictAt(now: number): LeakEvaluation {
    const settled = this.start === undefined ? now : this.start + this.warmup;
    const from = Math.max(settled, now - this.window);
    const raw = this.buf.between(from, now);
    const span = raw.length === 0 ? 0 : now - from;
    if (span < this.minSpan) {
      const have = this.start === undefined ? 'no samples yet' : `${fmt(span)} s of post-warm-up data`;
      return idle('warming_up', 'warming_up', `${have}; needs ${this.minSpan} s after a ${this.warmup} s warm-up`, span, raw.length);
    }
    const limits = { minSlope: this.minSlope, minR2: this.minR2, bucket: this.bucket, limitBytes: this.limitBytes };
    const whole = judgeSpan(raw, now, span, limits);
    let verdict = whole.result;
    if (verdict.status === 'ok' && span - this.minSpan >= this.bucket && !whole.vetoRecent) {
      const recent = judgeSpan(raw.filter((s) => s.t >= now - this.minSpan), now, this.minSpan, limits);
      if (recent.result.status === 'leak_suspected') verdict = recent.result;
    }
    if (verdict.status !== 'leak_suspected') return verdict;
    const hFrom = Math.max(settled, now - HISTORY_WINDOWS * this.window);
    const history = pointsToFit(this.buf.between(hFrom, now), hFrom, now, this.bucket);
    if (!isSaturating(history.points, now - hFrom, SATURATION_RATIO)) return verdict;
    const { projectedSecondsToLimit: _, ...rest } = verdict;
    return { ...rest, status: 'ok', gate: 'saturating', reason: `growth has slowed in each third of the last ${fmt(now - hFrom)} s: a warm-up saturating` };
  }
}
