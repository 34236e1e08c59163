import { findSawtooth, floorsOfThirds, lowerEnvelope, noiseOf, type Sample } from './series.js';
import { rSquared, theilSen, type Point } from './theilSen.js';

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

export type LeakStatus = 'warming_up' | 'ok' | 'leak_suspected';

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
  /** The span levels off (step 5's ratio test) or its floor fell from one third to the next: its last part alone must not be judged. */
  readonly vetoRecent: boolean;
}

export const fmt = (x: number): string => x.toFixed(2);

/** An evaluation that measured no trend. */
export function idle(status: LeakStatus, reason: string, span: number, samples: number): LeakEvaluation {
  return { status, slopeBytesPerSecond: 0, mbPerMinute: 0, rSquared: 0, windowSeconds: span, samples, reason };
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
  const { period, troughs } = findSawtooth(raw, noise.sigma);
  const width = Math.max(2 * bucket, SLICE_PER_PERIOD * period);
  const picked = period > 0 ? [...new Set([...troughs, ...lowerEnvelope(raw, t0, now, width)])].sort((a, b) => a.t - b.t) : raw;
  const points = picked.map((s): Point => [s.t - t0, s.bytes]);
  return { points, noise, period, width };
}

/**
 * Steps 2–5 of the leak detector (see LeakDetector.ts) on the samples `raw`
 * of the span `[now - span, now]` (seconds).
 */
export function judgeSpan(raw: readonly Sample[], now: number, span: number, limits: SpanLimits): SpanVerdict {
  const t0 = now - span;
  const { points: env, noise, period, width } = pointsToFit(raw, t0, now, limits.bucket);
  if (env.length < MIN_ENVELOPE_POINTS) {
    const why = `only ${env.length} distinct envelope points in ${fmt(span)} s (slices of ${fmt(width)} s); a trend needs ${MIN_ENVELOPE_POINTS}`;
    return { result: idle('ok', why, span, raw.length), vetoRecent: false };
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
  const result = (status: LeakStatus, reason: string, projectedSecondsToLimit?: number) => ({
    result: {
      status, slopeBytesPerSecond: slope, mbPerMinute: (slope * 60) / MiB, rSquared: r2, windowSeconds: span, samples: raw.length, reason,
      ...(projectedSecondsToLimit === undefined ? {} : { projectedSecondsToLimit }),
    },
    vetoRecent: levelling || floorFell,
  });
  const mb = (bytes: number): string => `${fmt(bytes / MiB)} MB`;
  const perMin = (bytesPerS: number): string => `${fmt((bytesPerS * 60) / MiB)} MB/min`;
  if (!(slope >= limits.minSlope)) return result('ok', `growth ${perMin(slope)} is below min_growth_mb_per_min ${perMin(limits.minSlope)}`);
  if (r2 < limits.minR2) return result('ok', `trend R² ${fmt(r2)} is below min_r_squared ${limits.minR2}`);
  // The rise the trend shows between the first and last fitted point (sawtooth troughs may not reach the span's ends).
  const rise = slope * (env.at(-1)![0] - env[0]![0]);
  if (rise < MIN_RISE_TO_SIGMA * noise.sigma || rise < MIN_RISE_TO_STEP * noise.step) {
    return result('ok', `rise ${mb(rise)} is within the noise (σ ${mb(noise.sigma)}, per-sample step ${mb(noise.step)})`);
  }
  // A sampled trough can sit up to one per-sample step above the true one (aliasing): allow half of it.
  const need = (FLOOR_RISE_FRACTION * slope * span) / 3 - (period > 0 ? noise.step / 2 : 0);
  if (!(floors[1] - floors[0] >= need && floors[2] - floors[1] >= need)) {
    const steps = `${mb(floors[1] - floors[0])} then ${mb(floors[2] - floors[1])}; needs ${mb(need)} each`;
    return result('ok', `memory floor did not rise in every third of the span (${steps}): sawtooth or one-off step`);
  }
  if (halves && (levelling || !(s2 >= limits.minSlope))) return result('ok', `growth is levelling off (${perMin(s1)} then ${perMin(s2)}): warm-up or a cache filling`);
  const verdict = `growing ${perMin(slope)} (R² ${fmt(r2)}) for ${fmt(span)} s`;
  if (limits.limitBytes === undefined) return result('leak_suspected', verdict);
  const level = fit.intercept + slope * span;
  return result('leak_suspected', verdict, Math.max(0, (limits.limitBytes - level) / slope));
}
