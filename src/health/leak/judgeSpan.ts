import { CLEAR_FACTOR, findSawtooth, findStaircase, floorsOfThirds, lowerEnvelope, noiseOf, type Sample } from './series.js';
import { medianInPlace, rSquared, theilSen, type Point } from './theilSen.js';

const MiB = 1024 * 1024;
/** The predicted rise must exceed this many noise σ (step 3). */
const MIN_RISE_TO_SIGMA = 3;
/** The predicted rise must exceed this many median per-sample steps (step 3). */
const MIN_RISE_TO_STEP = 1.5;
/** Fraction of the predicted rise each third's floor must show (step 4). */
const FLOOR_RISE_FRACTION = 0.5;
/** Minimum second-half / first-half slope ratio (step 5). */
const MIN_HALF_SLOPE_RATIO = 0.5;
/** Envelope slices are at least this × the median time between GC drops (step 2). */
const SLICE_PER_PERIOD = 1.5;
/** Fewest fitted points a span needs to be judged. */
const MIN_ENVELOPE_POINTS = 5;
/** The first and the last third must each grow at least this fraction of the span's trend (step 6). */
const MIN_THIRD_SLOPE_RATIO = 0.5;
/** ... and fall short of it by more than this many standard errors of their own slope to count as flat (step 6). */
const THIRD_SLOPE_SE = 2;
/** Floors whose rise from the 2nd to the 3rd third exceeds the rise from the 1st to the 2nd by this fraction of it accelerate (step 6). */
const FLOOR_ACCEL_FRACTION = 0.25;
/** Fewest collections (sampled troughs) each half of the span needs under a sawtooth (step 2). */
const MIN_HALF_TROUGHS = 2;
/** Fewest fitted points a third needs for step 6. */
const MIN_THIRD_POINTS = 3;
/** Most fitted points on which the leave-one-out test runs (step 3): it costs one fit per point. */
const MAX_LEAVE_ONE_OUT = 30;
/** Fewest steps that make a staircase, so its gaps say when the next step is due (step 6). */
const MIN_STAIR_STEPS = 3;
/** Fraction of the span's rise the steps must make for the growth to count as a staircase (step 6). */
const STAIR_RISE_FRACTION = 0.5;

export type LeakStatus = 'warming_up' | 'ok' | 'leak_suspected';

/**
 * Which test decided the verdict: the gate that rejected a leak, or `leak` when
 * every gate passed (see LeakDetector.ts for the steps).
 */
export type LeakGate =
  | 'warming_up' | 'few_points' | 'min_growth' | 'min_r_squared' | 'noise' | 'floors' | 'levelling'
  | 'stopped' | 'began_in_span' | 'saturating' | 'persistence' | 'leak';

export interface LeakEvaluation {
  readonly status: LeakStatus;
  /** Trend of the fitted points (envelope or samples), bytes per second; 0 while warming up. */
  readonly slopeBytesPerSecond: number;
  /** The same trend in MiB per minute. */
  readonly mbPerMinute: number;
  /** R² of the trend on the fitted points, 0–1. */
  readonly rSquared: number;
  /** Seconds until the trend reaches maxMemoryMb (0 if already above); only when a leak is suspected and a limit is set. */
  readonly projectedSecondsToLimit?: number;
  /** Span of data judged, seconds. */
  readonly windowSeconds: number;
  /** Raw samples in the judged span. */
  readonly samples: number;
  /** Why this status, with the measured value and the threshold. */
  readonly reason: string;
  /** The test that decided it (the gate that rejected a leak, or `leak`). */
  readonly gate: LeakGate;
}

/** Thresholds of a span judgement, in bytes and seconds. */
export interface SpanLimits {
  readonly minSlope: number;
  readonly minR2: number;
  /** Half the narrowest envelope slice. */
  readonly bucket: number;
  readonly limitBytes: number | undefined;
}

export interface SpanVerdict {
  readonly result: LeakEvaluation;
  /** The span levels off (step 5's ratio test), its growth stopped (step 6) or its floor fell from one third to the next: its last part alone must not be judged. */
  readonly vetoRecent: boolean;
}

export const fmt = (x: number): string => x.toFixed(2);

/** An evaluation that measured no trend. */
export function idle(status: LeakStatus, gate: LeakGate, reason: string, span: number, samples: number): LeakEvaluation {
  return { status, slopeBytesPerSecond: 0, mbPerMinute: 0, rSquared: 0, windowSeconds: span, samples, reason, gate };
}

/**
 * Theil–Sen slope of the points of one third of the span, and the standard
 * error of that slope from the scatter about its own line (1.4826 × MAD of the
 * residuals, as least squares would have it for that many points that far
 * apart). Undefined with fewer than MIN_THIRD_POINTS points.
 */
function thirdSlope(points: readonly Point[]): { slope: number; se: number } | undefined {
  if (points.length < MIN_THIRD_POINTS) return undefined;
  const fit = theilSen(points);
  const res = Float64Array.from(points, ([x, y]) => y - (fit.intercept + fit.slope * x));
  const sd = 1.4826 * medianInPlace(res.map(Math.abs));
  const mean = points.reduce((a, [x]) => a + x, 0) / points.length;
  const sxx = points.reduce((a, [x]) => a + (x - mean) ** 2, 0);
  return { slope: fit.slope, se: sxx > 0 ? sd / Math.sqrt(sxx) : Infinity };
}

/**
 * Step 2: the points `[t - t0, bytes]` a trend is fitted to. With a GC
 * sawtooth they are its troughs: the sample after each collection, plus the
 * lower envelope from slices 1.5 × the sawtooth period wide (at least
 * 2 × `bucket`) for collections too small to spot. Without a sawtooth they
 * are all the samples, which white noise needs.
 */
export function pointsToFit(raw: readonly Sample[], t0: number, now: number, bucket: number) {
  const noise = noiseOf(raw);
  const { period, troughs, clear } = findSawtooth(raw, noise.sigma);
  const width = Math.max(2 * bucket, SLICE_PER_PERIOD * period);
  const picked = period > 0 ? [...new Set([...troughs, ...lowerEnvelope(raw, t0, now, width)])].sort((a, b) => a.t - b.t) : raw;
  const points = picked.map((s): Point => [s.t - t0, s.bytes]);
  return { points, noise, period, width, troughs, clear };
}

/**
 * Steps 2–5 of the leak detector (see LeakDetector.ts) on the samples `raw`
 * of the span `[now - span, now]` (seconds).
 */
export function judgeSpan(raw: readonly Sample[], now: number, span: number, limits: SpanLimits): SpanVerdict {
  const t0 = now - span;
  const { points: env, noise, period, width, troughs, clear } = pointsToFit(raw, t0, now, limits.bucket);
  if (env.length < MIN_ENVELOPE_POINTS) {
    const why = `only ${env.length} distinct envelope points in ${fmt(span)} s (slices of ${fmt(width)} s); a trend needs ${MIN_ENVELOPE_POINTS}`;
    return { result: idle('ok', 'few_points', why, span, raw.length), vetoRecent: false };
  }
  // Under a clear sawtooth (series.ts) the floor is seen only just after a collection; every other sample is an
  // upper bound. The growth must be seen within each half of the span on its own, from two
  // collections at least: with one, a fill that stopped (or began) in that half looks the same.
  const halfTroughs = [0, 1].map((k) => troughs.filter((s) => (s.t - t0 >= span / 2 ? 1 : 0) === k));
  if (clear) {
    const seen = halfTroughs.map((h) => h.length);
    if (Math.min(...seen) < MIN_HALF_TROUGHS) {
      const why = `the floor is seen at ${seen[0]} then ${seen[1]} collections in the halves of ${fmt(span)} s (sawtooth period ${fmt(period)} s); a trend needs ${MIN_HALF_TROUGHS} in each`;
      return { result: idle('ok', 'few_points', why, span, raw.length), vetoRecent: false };
    }
  }
  const fit = theilSen(env);
  const slope = fit.slope;
  const r2 = rSquared(env, fit);
  const [first, second] = [env.filter(([x]) => x < span / 2), env.filter(([x]) => x >= span / 2)];
  // With under 3 points a half (a slow sawtooth's troughs) its slope is noise: step 4 stands in.
  const halves = first.length >= 3 && second.length >= 3;
  const s1 = theilSen(first).slope;
  const s2 = theilSen(second).slope;
  const levelling = halves && !(s2 >= MIN_HALF_SLOPE_RATIO * s1);
  const floors = floorsOfThirds(raw, t0, span);
  // A floor lower than the previous third's, beyond noise (and trough aliasing), means memory was given back.
  const slack = MIN_RISE_TO_SIGMA * noise.sigma + (period > 0 ? noise.step : 0);
  const floorFell = floors[1] < floors[0] - slack || floors[2] < floors[1] - slack;
  // Set below, once the growth is known to reach min_growth (it needs that growth).
  let stopped = false;
  const result = (status: LeakStatus, gate: LeakGate, reason: string, projectedSecondsToLimit?: number) => ({
    result: {
      status, slopeBytesPerSecond: slope, mbPerMinute: (slope * 60) / MiB, rSquared: r2, windowSeconds: span, samples: raw.length, reason, gate,
      ...(projectedSecondsToLimit === undefined ? {} : { projectedSecondsToLimit }),
    },
    vetoRecent: levelling || floorFell || stopped,
  });
  const mb = (bytes: number): string => `${fmt(bytes / MiB)} MB`;
  const perMin = (bytesPerS: number): string => `${fmt((bytesPerS * 60) / MiB)} MB/min`;
  // Below min_growth the verdict is that, whatever the later gates say, and `stopped` is false: return before
  // their fits (most series, most of the time; the result is the same as judging them all).
  if (!(slope >= limits.minSlope)) return result('ok', 'min_growth', `growth ${perMin(slope)} is below min_growth_mb_per_min ${perMin(limits.minSlope)}`);
  // Step 6: the growth must hold at both ends of the span. A last third that is flat
  // (well below the trend, beyond its own noise) means the growth stopped: a cache
  // that filled. A flat first third means the growth began inside the span: it has
  // lasted under `span`, and only the span since it began may be judged (the
  // detector's recent span does that once it is long enough).
  const thirds = [0, 2].map((k) => thirdSlope(env.filter(([x]) => Math.min(2, Math.floor((x * 3) / span)) === k)));
  const flat = (t: { slope: number; se: number } | undefined) =>
    t !== undefined && t.slope < MIN_THIRD_SLOPE_RATIO * slope && slope - t.slope > THIRD_SLOPE_SE * t.se;
  // A staircase (growth in jumps, no sawtooth) has stopped when its flat tail has outlasted the
  // longest gap between its steps (plus one sample): a step leak would have stepped again by now.
  const stairs = period > 0 ? undefined : findStaircase(raw, noise.sigma);
  // Only steps that cannot go unseen (typically at least twice the threshold and the usual change) make their absence evidence.
  const overdue = stairs !== undefined && stairs.steps >= MIN_STAIR_STEPS && stairs.typical >= CLEAR_FACTOR * Math.max(stairs.threshold, stairs.usual)
    && stairs.rise >= STAIR_RISE_FRACTION * slope * span && now - stairs.last > stairs.maxGap + stairs.interval;
  // Under a sawtooth, the rise between the first and the last collection of each half must agree
  // with the trend within what aliasing (a sampled trough sits up to one per-sample step above the
  // true one) and noise allow; a half that rose less has not grown all along.
  const lags = clear ? halfTroughs.map((h) => slope * (h.at(-1)!.t - h[0]!.t) - (h.at(-1)!.bytes - h[0]!.bytes)) : [0, 0];
  const lagBound = noise.step + MIN_RISE_TO_SIGMA * Math.SQRT2 * noise.sigma;
  const stoppedSaw = lags[1]! > lagBound;
  stopped = flat(thirds[1]) || overdue || stoppedSaw; // slope >= limits.minSlope here
  // A rise of the floors that accelerates from one third to the next, beyond the noise,
  // is a fill (a ramp or staircase) that began inside the span, too.
  const accel = (floors[2] - floors[1]) - (floors[1] - floors[0]);
  const began = flat(thirds[0]) || lags[0]! > lagBound || (accel > FLOOR_ACCEL_FRACTION * (floors[2] - floors[1]) && accel > slack + noise.step);
  // Under a sawtooth the trend rests on a few collections: it must not hang on any one of them.
  // (With more than MAX_LEAVE_ONE_OUT points, one point takes part in under 1/15 of the pairs.)
  if (clear && env.length <= MAX_LEAVE_ONE_OUT) {
    const without = env.map((_, i) => theilSen(env.filter((__, j) => j !== i)).slope);
    const i = without.indexOf(Math.min(...without));
    if (!(without[i]! >= limits.minSlope)) {
      return result('ok', 'min_growth', `growth ${perMin(slope)} rests on one collection: without the point at ${fmt(env[i]![0])} s of the span it is ${perMin(without[i]!)}, below min_growth_mb_per_min ${perMin(limits.minSlope)}`);
    }
  }
  if (r2 < limits.minR2) return result('ok', 'min_r_squared', `trend R² ${fmt(r2)} is below min_r_squared ${limits.minR2}`);
  // The rise the trend shows between the first and last fitted point (sawtooth troughs may not reach the span's ends).
  const rise = slope * (env.at(-1)![0] - env[0]![0]);
  if (rise < MIN_RISE_TO_SIGMA * noise.sigma || rise < MIN_RISE_TO_STEP * noise.step) {
    return result('ok', 'noise', `rise ${mb(rise)} is within the noise (σ ${mb(noise.sigma)}, per-sample step ${mb(noise.step)})`);
  }
  // A sampled trough can sit up to one per-sample step above the true one (aliasing): allow half of it.
  const need = (FLOOR_RISE_FRACTION * slope * span) / 3 - (period > 0 ? noise.step / 2 : 0);
  if (!(floors[1] - floors[0] >= need && floors[2] - floors[1] >= need)) {
    const steps = `${mb(floors[1] - floors[0])} then ${mb(floors[2] - floors[1])}; needs ${mb(need)} each`;
    return result('ok', 'floors', `memory floor did not rise in every third of the span (${steps}): sawtooth or one-off step`);
  }
  if (halves && (levelling || !(s2 >= limits.minSlope))) return result('ok', 'levelling', `growth is levelling off (${perMin(s1)} then ${perMin(s2)}): warm-up or a cache filling`);
  if (stopped && overdue) {
    const why = `it rose in ${stairs!.steps} steps at most ${fmt(stairs!.maxGap)} s apart, and the last was ${fmt(now - stairs!.last)} s ago`;
    return result('ok', 'stopped', `growth stopped: ${why}: a cache filled in steps`);
  }
  if (stopped && stoppedSaw && !flat(thirds[1])) {
    const seen = `its last half rose ${mb(-lags[1]! + slope * (halfTroughs[1]!.at(-1)!.t - halfTroughs[1]![0]!.t))} between collections ${fmt(halfTroughs[1]!.at(-1)!.t - halfTroughs[1]![0]!.t)} s apart`;
    return result('ok', 'stopped', `growth stopped: ${seen}, against ${perMin(slope)} over the span, beyond aliasing and noise (${mb(lagBound)}): a cache or warm-up that filled`);
  }
  if (stopped) return result('ok', 'stopped', `growth stopped: the last third of the span grows ${perMin(thirds[1]!.slope)} against ${perMin(slope)} over the span: a cache or warm-up that filled`);
  if (began) {
    const firstHalf = halfTroughs[0]!.length > 1 ? halfTroughs[0]!.at(-1)!.t - halfTroughs[0]![0]!.t : 0;
    const why = flat(thirds[0]) ? `its first third grows ${perMin(thirds[0]!.slope)} against ${perMin(slope)}`
      : lags[0]! > lagBound ? `its first half rose ${mb(slope * firstHalf - lags[0]!)} between collections ${fmt(firstHalf)} s apart, ${mb(lags[0]!)} short of the trend`
        : `its floor rose ${mb(floors[1] - floors[0])} then ${mb(floors[2] - floors[1])}, accelerating`;
    return result('ok', 'began_in_span', `growth began inside the span (${why}); judged once it has lasted a whole span`);
  }
  const verdict = `growing ${perMin(slope)} (R² ${fmt(r2)}) for ${fmt(span)} s`;
  if (limits.limitBytes === undefined) return result('leak_suspected', 'leak', verdict);
  const level = fit.intercept + slope * span;
  return result('leak_suspected', 'leak', verdict, Math.max(0, (limits.limitBytes - level) / slope));
}
