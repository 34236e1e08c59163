/**
 * Theil–Sen robust line fit and goodness of fit.
 *
 * The slope is the median of the slopes of all pairs of points with distinct x
 * (O(n²) pairs). Up to ~29% of the points can be outliers without moving it,
 * which is why the leak detector prefers it to least squares: one GC spike or
 * one missed collection does not tilt the line. The intercept is the median of
 * `y - slope·x`. Exact on up to ~80 points (0.2 ms); past that it samples a
 * fixed number of pairs (see bench/leak-corpus.ts for timings and accuracy).
 */

/** A point `[x, y]`. */
export type Point = readonly [x: number, y: number];

export interface LineFit {
  /** dy/dx, in the units of the inputs. */
  readonly slope: number;
  /** y at x = 0. */
  readonly intercept: number;
}

/** Puts the k-th smallest value of `a` at index k (Hoare quickselect, median-of-three pivot); O(n) on average. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const pivot = Math.max(Math.min(a[lo]!, a[mid]!), Math.min(Math.max(a[lo]!, a[mid]!), a[hi]!));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}

/** Median of the values in `a`, reordering `a` in place. NaN when empty. */
export function medianInPlace(a: Float64Array): number {
  if (a.length === 0) return Number.NaN;
  const mid = a.length >> 1;
  const upper = select(a, mid);
  if (a.length % 2 === 1) return upper;
  let lower = -Infinity; // after select, everything below index mid is ≤ upper
  for (let i = 0; i < mid; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/** Pairs beyond which theilSen samples pairs instead of enumerating them (~80 points). */
export const MAX_EXACT_PAIRS = 3200;

/**
 * Fits `y = slope·x + intercept` by the Theil–Sen estimator. Up to
 * `maxPairs` pairs (all pairs of up to ~80 points by default) it is exact;
 * beyond, the slope is the median of `maxPairs` pairs drawn by a fixed-seed
 * generator, so the result is deterministic and the cost stays O(maxPairs).
 *
 * @returns `{ slope: NaN, intercept: NaN }` when fewer than two points have
 *   distinct x, since no slope is defined.
 */
export function theilSen(points: readonly Point[], maxPairs = MAX_EXACT_PAIRS): LineFit {
  const n = points.length;
  const all = (n * (n - 1)) / 2;
  const want = Math.min(all, maxPairs);
  // The coordinates in flat arrays, and the slopes in a buffer kept between calls: the detector fits
  // a dozen lines per series every few seconds, and this loop is most of its cost.
  const xs = scratch(0, n);
  const ys = scratch(1, n);
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    xs[i] = p[0];
    ys[i] = p[1];
  }
  const slopes = scratch(2, want);
  let k = 0;
  if (all <= maxPairs) {
    for (let i = 0; i < n; i++) {
      const xi = xs[i]!;
      const yi = ys[i]!;
      for (let j = i + 1; j < n; j++) {
        const xj = xs[j]!;
        if (xj !== xi) slopes[k++] = (ys[j]! - yi) / (xj - xi);
      }
    }
  } else {
    let seed = 0x9e3779b9;
    for (let tries = 0; k < want && tries < 4 * maxPairs; tries++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const a = Math.floor((seed / 4294967296) * n);
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const b = Math.floor((seed / 4294967296) * n);
      if (a === b) continue;
      const i = a < b ? a : b;
      const j = a < b ? b : a;
      const xi = xs[i]!;
      const xj = xs[j]!;
      if (xj !== xi) slopes[k++] = (ys[j]! - ys[i]!) / (xj - xi);
    }
  }
  const slope = medianInPlace(slopes.subarray(0, k));
  if (Number.isNaN(slope)) return { slope: Number.NaN, intercept: Number.NaN };
  const offsets = scratch(2, n);
  for (let i = 0; i < n; i++) offsets[i] = ys[i]! - slope * xs[i]!;
  return { slope, intercept: medianInPlace(offsets) };
}

/** Buffers reused by {@link theilSen} (x, y, slopes or offsets); each grows to the largest size asked for. */
const buffers: Float64Array[] = [new Float64Array(0), new Float64Array(0), new Float64Array(0)];
function scratch(which: 0 | 1 | 2, size: number): Float64Array {
  if (buffers[which]!.length < size) buffers[which] = new Float64Array(Math.max(size, 2 * buffers[which]!.length));
  return buffers[which]!.subarray(0, size);
}

/**
 * Coefficient of determination of `fit` on `points`: 1 − SS_res / SS_tot,
 * clamped to [0, 1]. A robust line can fit worse than the mean (negative raw
 * R²); that is reported as 0. A perfectly flat series (SS_tot = 0) has no
 * variance to explain and scores 0.
 */
export function rSquared(points: readonly Point[], fit: LineFit): number {
  const n = points.length;
  if (n < 2 || Number.isNaN(fit.slope)) return 0;
  let mean = 0;
  for (const [, y] of points) mean += y / n;
  let ssTot = 0;
  let ssRes = 0;
  for (const [x, y] of points) {
    ssTot += (y - mean) ** 2;
    ssRes += (y - (fit.slope * x + fit.intercept)) ** 2;
  }
  if (ssTot === 0) return 0;
  return Math.min(1, Math.max(0, 1 - ssRes / ssTot));
}
