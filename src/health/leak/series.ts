/**
 * Building blocks of the leak detector that look at one span of a memory
 * series: its lower envelope, its noise, the floors of its thirds, and whether
 * its growth is saturating. All times are in seconds, sizes in bytes.
 */
import { medianInPlace, theilSen, type Point } from './theilSen.js';

export interface Sample {
  /** Seconds. */
  readonly t: number;
  readonly bytes: number;
}

/**
 * Lower envelope of `raw` over `[t0, now]`: the minimum sample of each slice
 * `[end - width, end]`, for ends stepping back from `now` by `width / 4` while
 * the slice fits in the span. A slice wider than a GC sawtooth's period holds
 * a trough, so the sawtooth vanishes; a sample that is the minimum of several
 * slices counts once. Returns samples in time order.
 */
export function lowerEnvelope(raw: readonly Sample[], t0: number, now: number, width: number): Sample[] {
  const picked = new Set<Sample>();
  for (let end = now; end - width >= t0 - 1e-9; end -= width / 4) {
    let min: Sample | undefined;
    for (const s of raw) if (s.t >= end - width && s.t <= end && (min === undefined || s.bytes < min.bytes)) min = s;
    if (min !== undefined) picked.add(min);
  }
  return [...picked].sort((a, b) => a.t - b.t);
}

/** A sawtooth or a staircase is clear when its median drop or step is at least this × the threshold it must pass. */
export const CLEAR_FACTOR = 2;

export interface Sawtooth {
  /** Median time between collections, seconds; 0 when the series has no sawtooth. */
  readonly period: number;
  /** The sample just after each collection: the sampled troughs. */
  readonly troughs: readonly Sample[];
  /**
   * The median drop is at least twice the threshold a drop must pass and twice the median
   * sample-to-sample change, so a collection that size cannot go unseen (a 3 σ rise of the noise
   * would have to hide it) and the troughs are the only places the floor is seen. A few noise
   * drops just past the threshold, or a quiet series (σ near 0) that falls by its usual step, are
   * not such a sawtooth.
   */
  readonly clear: boolean;
}

/**
 * Finds a GC sawtooth: falls from one sample to the next bigger than 3 × the
 * noise of a difference (√2·σ). A sawtooth is lopsided (big drops, and no
 * jumps up beyond its ramp's usual step plus that noise) while white noise
 * jumps both ways, so it needs at least two such drops and at most a third as
 * many such jumps up.
 */
export function findSawtooth(raw: readonly Sample[], sigma: number): Sawtooth {
  const big = 3 * Math.SQRT2 * sigma;
  const diffs = Float64Array.from(raw.slice(1), (s, i) => s.bytes - raw[i]!.bytes);
  const typical = diffs.length === 0 ? 0 : medianInPlace(diffs.slice());
  const troughs: Sample[] = [];
  const drops: number[] = [];
  let jumps = 0;
  for (let i = 1; i < raw.length; i++) {
    if (diffs[i - 1]! < -big) {
      troughs.push(raw[i]!);
      drops.push(-diffs[i - 1]!);
    } else if (diffs[i - 1]! - typical > big) jumps++;
  }
  if (troughs.length < 2 || jumps * 3 > troughs.length) return { period: 0, troughs: [], clear: false };
  const clear = medianInPlace(Float64Array.from(drops)) >= CLEAR_FACTOR * Math.max(big, medianInPlace(diffs.map(Math.abs)));
  return { period: medianInPlace(Float64Array.from(troughs.slice(1), (s, i) => s.t - troughs[i]!.t)), troughs, clear };
}

export interface Noise {
  /** Robust σ of white noise: 1.4826 × MAD of consecutive differences / √2. A trend or a regular sawtooth ramp barely moves it. */
  readonly sigma: number;
  /** Median |consecutive difference|: the per-sample step of a sawtooth, bounding how far a sampled trough can miss the true one. */
  readonly step: number;
}

/** Noise measures of a series sampled at roughly regular intervals. */
export function noiseOf(raw: readonly Sample[]): Noise {
  const d = Float64Array.from(raw.slice(1), (s, i) => s.bytes - raw[i]!.bytes);
  if (d.length === 0) return { sigma: 0, step: 0 };
  const center = medianInPlace(d.slice());
  const sigma = (1.4826 * medianInPlace(d.map((x) => Math.abs(x - center)))) / Math.SQRT2;
  return { sigma, step: medianInPlace(d.map(Math.abs)) };
}

/** Minimum sample in each third of `[t0, t0 + span]` (Infinity for an empty third). */
export function floorsOfThirds(raw: readonly Sample[], t0: number, span: number): [number, number, number] {
  const floors: [number, number, number] = [Infinity, Infinity, Infinity];
  for (const s of raw) {
    const k = Math.min(2, Math.max(0, Math.floor(((s.t - t0) * 3) / span)));
    floors[k] = Math.min(floors[k]!, s.bytes);
  }
  return floors;
}

/**
 * Whether envelope points spanning `span` seconds grow ever more slowly, the
 * signature of a warm-up or a cache filling: the Theil–Sen slope of each third
 * is below `ratio` × the previous third's while the first is positive. A leak
 * whose rate drops once and then holds is not saturating.
 */
export function isSaturating(env: readonly Point[], span: number, ratio: number): boolean {
  const r = [0, 1, 2].map((k) => theilSen(env.filter(([x]) => Math.min(2, Math.floor((x * 3) / span)) === k)).slope);
  return r[0]! > 0 && r[1]! < ratio * r[0]! && r[2]! < ratio * r[1]!;
}

export interface Staircase {
  /** Steps: runs of rises from one sample to the next bigger than `threshold`, whose new level lasts (see findStaircase). */
  readonly steps: number;
  /** Their total height, bytes. */
  readonly rise: number;
  /** The median step's height, bytes. */
  readonly typical: number;
  /** The height a rise from one sample to the next must exceed to be part of a step: 3 × the noise of a difference, bytes. */
  readonly threshold: number;
  /** Median absolute change from one sample to the next, bytes. */
  readonly usual: number;
  /** Longest time between two consecutive steps, seconds. */
  readonly maxGap: number;
  /** Time of the sample at the end of the last step, seconds. */
  readonly last: number;
  /** Median time between samples, seconds. */
  readonly interval: number;
}

/** Samples on each side of a step: the lowest after it must stay above the median before it by the threshold (a spike or a noise jump falls back, a step stays, and a next step only adds). */
const STEP_LEVEL_SAMPLES = 3;

/**
 * The steps of a series that grows in steps (a staircase: a cache filled in
 * chunks, or a step leak). A step is a run of rises from one sample to the
 * next, each bigger than 3 × the noise of a difference beyond the median
 * difference (findSawtooth's threshold for drops), timed at its last sample;
 * so a ramp is one step, not a staircase. It counts only if each of the next
 * STEP_LEVEL_SAMPLES samples stays above the median of the ones before it by
 * the same threshold. Undefined with fewer than two steps.
 */
export function findStaircase(raw: readonly Sample[], sigma: number): Staircase | undefined {
  const threshold = 3 * Math.SQRT2 * sigma;
  const diffs = Float64Array.from(raw.slice(1), (s, i) => s.bytes - raw[i]!.bytes);
  const typical = diffs.length === 0 ? 0 : medianInPlace(diffs.slice());
  const around = (from: number, to: number): Float64Array => Float64Array.from(raw.slice(Math.max(0, from), Math.min(raw.length, to)), (s) => s.bytes);
  const at: number[] = [];
  const heights: number[] = [];
  for (let i = 1; i < raw.length; i++) {
    if (!(diffs[i - 1]! - typical > threshold)) continue;
    let end = i;
    let height = 0;
    while (end < raw.length && diffs[end - 1]! - typical > threshold) height += diffs[end++ - 1]! - typical;
    const after = around(end, end + STEP_LEVEL_SAMPLES);
    if (after.length > 0 && Math.min(...after) - medianInPlace(around(i - STEP_LEVEL_SAMPLES, i)) > threshold) {
      at.push(raw[end - 1]!.t);
      heights.push(height);
    }
    i = end;
  }
  if (at.length < 2) return undefined;
  const maxGap = Math.max(...at.slice(1).map((t, k) => t - at[k]!));
  const interval = medianInPlace(Float64Array.from(raw.slice(1), (x, k) => x.t - raw[k]!.t));
  return { steps: at.length, rise: heights.reduce((a, b) => a + b, 0), typical: medianInPlace(Float64Array.from(heights)), threshold, usual: medianInPlace(diffs.map(Math.abs)), maxGap, last: at.at(-1)!, interval };
}
