import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LeakDetector } from '../../src/health/leak/LeakDetector.js';
import { medianInPlace, rSquared, theilSen, type Point } from '../../src/health/leak/theilSen.js';
import { CORPUS_DIR, inScope, loadCorpus, replay, score, type MemoryTrace } from '../fixtures/memory-traces/corpus.js';

const MiB = 1024 * 1024;
/** The default memory_leaks config, plus resource_usage.max_memory_mb. */
const CONFIG = { windowSeconds: 300, warmupSeconds: 60, minGrowthMbPerMin: 1, minRSquared: 0.6, maxMemoryMb: 1024 };

/** Feeds `bytesAt(t)` every 5 s from t = 5 to `untilS`, returning the last evaluation. */
function feed(d: LeakDetector, untilS: number, bytesAt: (t: number) => number, fromS = 5) {
  let last = d.evaluate(fromS * 1000);
  for (let t = fromS; t <= untilS; t += 5) {
    d.add(t * 1000, bytesAt(t));
    last = d.evaluate(t * 1000);
  }
  return last;
}

describe('theilSen', () => {
  it('recovers an exact line', () => {
    const fit = theilSen([[0, 1], [1, 3], [2, 5], [3, 7]]);
    expect(fit.slope).toBe(2);
    expect(fit.intercept).toBe(1);
  });

  it('ignores a wild outlier that would tilt least squares', () => {
    const pts: Point[] = [[0, 1], [1, 3], [2, 5], [3, 1000], [4, 9], [5, 11], [6, 13]];
    expect(theilSen(pts)).toEqual({ slope: 2, intercept: 1 });
  });

  it('takes the median pair slope, averaging the middle two for an even count', () => {
    // pair slopes 1, 1.5, 2 → 1.5
    expect(theilSen([[0, 0], [1, 1], [2, 3]]).slope).toBe(1.5);
    // pair slopes 1, 1, 5/3, 2, 2, 3 → (5/3 + 2) / 2
    expect(theilSen([[0, 0], [1, 1], [2, 4], [3, 5]]).slope).toBeCloseTo(11 / 6, 12);
    // a pair with equal x has no slope and is skipped: 1, 1, 2, 3, 3 → 2
    expect(theilSen([[0, 0], [1, 1], [1, 1], [2, 4]]).slope).toBe(2);
  });

  it('finds the median by selection, duplicates included, as sorting would', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 500; trial++) {
      const values = Array.from({ length: 1 + (trial % 37) }, () => Math.floor(rnd() * (trial % 2 ? 5 : 1000)));
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const expected = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      expect(medianInPlace(Float64Array.from(values))).toBe(expected);
    }
    expect(medianInPlace(new Float64Array(0))).toBeNaN();
  });

  it('samples a fixed number of pairs on long series and stays close to the exact slope', () => {
    const pts: Point[] = Array.from({ length: 400 }, (_, i) => [i, 3 * i + ((i * 7919) % 101) - 50]);
    const exact = theilSen(pts, Infinity).slope;
    expect(theilSen(pts).slope).toBeCloseTo(exact, 1);
    expect(theilSen(pts).slope).toBe(theilSen(pts).slope); // deterministic
  });

  it('gives the exact median of pair slopes and of offsets, whatever it fitted before (its buffers are reused)', () => {
    const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
    const reference = (pts: Point[]) => {
      const slopes: number[] = [];
      for (let i = 0; i < pts.length; i++) for (let j = i + 1; j < pts.length; j++) if (pts[j]![0] !== pts[i]![0]) slopes.push((pts[j]![1] - pts[i]![1]) / (pts[j]![0] - pts[i]![0]));
      const slope = median(slopes);
      return { slope, intercept: median(pts.map(([x, y]) => y - slope * x)) };
    };
    const series = (n: number, seed: number): Point[] => Array.from({ length: n }, (_, i) => [i + (i % 3 === 0 ? 0 : 0.5), 2 * i + ((i * seed) % 17) - 8]);
    // Large, small, medium, with repeated x: each against a fit computed on its own.
    const sizes = [1000, 5, 70, 2, 40, 79];
    const fresh = sizes.map((n, k) => reference(series(n, 31 + k)));
    sizes.forEach((n, k) => {
      const fit = theilSen(series(n, 31 + k), Infinity);
      expect(fit.slope).toBeCloseTo(fresh[k]!.slope, 12);
      expect(fit.intercept).toBeCloseTo(fresh[k]!.intercept, 9);
    });
    // The sampled path after a different fit gives what it gives first.
    const long = series(400, 7);
    const first = theilSen(long);
    theilSen(series(900, 3));
    expect(theilSen(long)).toEqual(first);
  });

  it('returns NaN when no two points have distinct x', () => {
    expect(theilSen([]).slope).toBeNaN();
    expect(theilSen([[1, 2], [1, 5]]).slope).toBeNaN();
  });

  it('scores fit quality with R², clamped to [0, 1]', () => {
    const line: Point[] = [[0, 0], [1, 2], [2, 4]];
    expect(rSquared(line, { slope: 2, intercept: 0 })).toBe(1);
    expect(rSquared([[0, 5], [1, 5], [2, 5]], { slope: 0, intercept: 5 })).toBe(0);
    expect(rSquared(line, { slope: -2, intercept: 0 })).toBe(0);
    expect(rSquared([[0, 0], [1, 1], [2, 0], [3, 1]], theilSen([[0, 0], [1, 1], [2, 0], [3, 1]]))).toBeLessThan(0.3);
  });
});

describe('LeakDetector', () => {
  it('warms up for warmup + 0.6 × window seconds, then judges', () => {
    const d = new LeakDetector(CONFIG);
    expect(d.evaluate(0)).toMatchObject({ status: 'warming_up', reason: expect.stringContaining('no samples yet') });
    expect(feed(d, 235, () => 200 * MiB).status).toBe('warming_up');
    expect(feed(d, 245, () => 200 * MiB, 240).status).toBe('ok');
  });

  it('projects the time to max_memory_mb on a known linear leak', () => {
    const d = new LeakDetector(CONFIG);
    const r = feed(d, 300, (t) => 200 * MiB + (10 * MiB * t) / 60); // 10 MB/min from 200 MB
    expect(r.status).toBe('leak_suspected');
    expect(r.mbPerMinute).toBeCloseTo(10, 6);
    expect(r.slopeBytesPerSecond).toBeCloseTo((10 * MiB) / 60, 0);
    // at 300 s the agent holds 250 MB: (1024 − 250) MB at 10 MB/min = 77.4 min
    expect(r.projectedSecondsToLimit).toBeCloseTo(((1024 - 250) / 10) * 60, 0);
  });

  it('projects 0 s once the limit is passed, and nothing without a limit', () => {
    const over = feed(new LeakDetector({ ...CONFIG, maxMemoryMb: 100 }), 300, (t) => 200 * MiB + (10 * MiB * t) / 60);
    expect(over).toMatchObject({ status: 'leak_suspected', projectedSecondsToLimit: 0 });
    const noLimit = feed(new LeakDetector({ ...CONFIG, maxMemoryMb: undefined }), 300, (t) => 200 * MiB + (10 * MiB * t) / 60);
    expect(noLimit.status).toBe('leak_suspected');
    expect(noLimit.projectedSecondsToLimit).toBeUndefined();
  });

  it('forgets the series on reset (a restart) and warms up again', () => {
    const d = new LeakDetector(CONFIG);
    expect(feed(d, 400, (t) => 100 * MiB + (20 * MiB * t) / 60).status).toBe('leak_suspected');
    d.reset();
    // the restarted agent is back at 100 MB and flat: no stale pre-restart samples may count
    expect(feed(d, 640, () => 100 * MiB, 405).status).toBe('warming_up');
    const after = feed(d, 1000, () => 100 * MiB, 645);
    expect(after.status).toBe('ok');
    expect(after.mbPerMinute).toBe(0);
  });

  it('does not mistake a sawtooth aliasing against the sampling interval for a leak', () => {
    // an 80 MB sawtooth of period 19.5 s sampled every 5 s: the sampled troughs creep up 2 MB per cycle
    const d = new LeakDetector(CONFIG);
    for (let t = 5; t <= 900; t += 5) {
      d.add(t * 1000, 200 * MiB + (80 * MiB * (t % 19.5)) / 19.5);
      expect(d.evaluate(t * 1000).status).not.toBe('leak_suspected');
    }
  });

  it('does not call a cache that filled after the warm-up and then stopped a leak (the last third must still grow)', () => {
    // 80 MB at 40 MB/min from 120 s to 240 s, then flat: the shape of issue 16
    const d = new LeakDetector(CONFIG);
    const gates = new Set<string>();
    for (let t = 5; t <= 900; t += 5) {
      d.add(t * 1000, 200 * MiB + (Math.min(120, Math.max(0, t - 120)) / 120) * 80 * MiB + ((t * 7919) % 13) * 0.1 * MiB);
      const r = d.evaluate(t * 1000);
      expect(r.status, `at ${t} s: ${r.reason}`).not.toBe('leak_suspected');
      gates.add(r.gate);
    }
    expect(gates).toContain('stopped');
  });

  it('names the gate that rejected a growing series, with its slope and R²', () => {
    const d = new LeakDetector(CONFIG);
    let r: ReturnType<LeakDetector['evaluate']> | undefined;
    for (let t = 5; t <= 600 && r?.gate !== 'stopped'; t += 5) {
      d.add(t * 1000, 200 * MiB + (Math.min(120, Math.max(0, t - 120)) / 120) * 80 * MiB);
      r = d.evaluate(t * 1000);
    }
    expect(r!.status).toBe('ok');
    expect(r!.gate).toBe('stopped');
    r = r!;
    expect(r.mbPerMinute).toBeGreaterThan(1);
    expect(r.rSquared).toBeGreaterThan(0.6);
    expect(r.reason).toMatch(/^growth stopped: the last third of the span grows -?\d+\.\d\d MB\/min against \d+\.\d\d MB\/min/);
    expect(feed(new LeakDetector(CONFIG), 300, () => 200 * MiB).gate).toBe('min_growth');
    expect(feed(new LeakDetector(CONFIG), 300, (t) => 200 * MiB + (10 * MiB * t) / 60).gate).toBe('leak');
  });

  it('flags a leak that starts late once it has grown for the shortest span, not before', () => {
    const d = new LeakDetector(CONFIG);
    let first: number | undefined;
    for (let t = 5; t <= 900 && first === undefined; t += 5) {
      d.add(t * 1000, 200 * MiB + (Math.max(0, t - 400) * 5 * MiB) / 60);
      if (d.evaluate(t * 1000).status === 'leak_suspected') first = t;
    }
    expect(first! - 400).toBeGreaterThanOrEqual(150);
    expect(first! - 400).toBeLessThanOrEqual(200);
  });

  it('tells a cache filled in steps that stopped from a step leak by the gaps between its steps', () => {
    // +20 MB every 30 s: five times from 100 s, then flat (a cache), or on and on (a leak), with white noise σ 1 MB
    let seed = 11;
    const uniform = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const wobble = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * MiB;
    const cache = new LeakDetector(CONFIG);
    const reasons: string[] = [];
    for (let t = 5; t <= 600; t += 5) {
      cache.add(t * 1000, 200 * MiB + Math.min(5, t < 100 ? 0 : 1 + Math.floor((t - 100) / 30)) * 20 * MiB + wobble());
      const r = cache.evaluate(t * 1000);
      expect(r.status, `at ${t} s: ${r.reason}`).not.toBe('leak_suspected');
      reasons.push(r.reason);
    }
    expect(reasons).toContainEqual(expect.stringMatching(/^growth stopped: it rose in 5 steps at most 30\.00 s apart, and the last was 40\.00 s ago/));
    const leak = feed(new LeakDetector(CONFIG), 300, (t) => 200 * MiB + (t < 100 ? 0 : 1 + Math.floor((t - 100) / 30)) * 20 * MiB + wobble());
    expect(leak.status).toBe('leak_suspected');
  });

  it('judges a trend under a slow sawtooth only from collections in both halves of the span, and never from one alone', async () => {
    // a late linear warm-up under a 60 s GC sawtooth (the corpus kind warmup-late-linear), with fresh seeds
    const gen = (await import(pathToFileURL(join(CORPUS_DIR, 'generate-synthetic.mjs')).href)) as { synthesize: (seed: number) => Array<Omit<MemoryTrace, 'file'>> };
    const gates = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) {
      const trace = gen.synthesize(seed).find((t) => t.kind === 'warmup-late-linear')!;
      const r = replay({ ...trace, file: `${trace.kind}#${seed}` }, CONFIG);
      expect(r.falseAlarmAtS, `seed ${seed}`).toBeUndefined();
      for (const e of r.evaluations) gates.add(e.result.reason.replace(/[-\d.]+/g, '#'));
    }
    expect([...gates]).toContainEqual(expect.stringMatching(/^the floor is seen at # then # collections in the halves/));
    expect([...gates]).toContainEqual(expect.stringMatching(/^growth stopped: its last half rose # MB between collections/));
    expect([...gates]).toContainEqual(expect.stringMatching(/rests on one collection: without the point at/));
  });

  it('ignores samples that are not newer than the last one', () => {
    const d = new LeakDetector(CONFIG);
    expect(d.add(10_000, 1)).toBe(true);
    expect(d.add(10_000, 2)).toBe(false);
    expect(d.add(5_000, 2)).toBe(false);
  });

  it('rejects bad samples and bad options with messages that name them', () => {
    const d = new LeakDetector();
    expect(() => d.add(1000, -1)).toThrow(/non-negative byte count, got `1000` ms and `-1` bytes/);
    expect(() => d.add(Number.NaN, 1)).toThrow(RangeError);
    expect(() => new LeakDetector({ windowSeconds: 0 })).toThrow(/`windowSeconds` to be a positive number, got `0`/);
    expect(() => new LeakDetector({ minRSquared: 1.5 })).toThrow(/`minRSquared` to be between 0 and 1/);
  });
});

describe('LeakDetector on the labelled corpus (5 s stream, default config)', () => {
  const corpus = loadCorpus();
  const results = new Map(corpus.map((t) => [t.file, replay(t, CONFIG)]));
  const byFile = (f: string) => results.get(f)!;
  const leaks = corpus.filter((t) => t.label === 'leak');
  const clean = corpus.filter((t) => t.label === 'no_leak');
  const targeted = leaks.filter((t) => t.leak_mb_per_min! >= 2 && t.known_limit === undefined);

  it('covers the required kinds of trace, synthetic and recorded', () => {
    const kinds = new Set(corpus.map((t) => t.kind));
    for (const k of ['linear-0.5', 'linear-2', 'linear-5', 'linear-20', 'step-1min', 'leak-on-sawtooth', 'flat', 'gc-sawtooth-big', 'cache-plateau', 'warmup-exp', 'spike', 'restart-drop',
      'cache-fill-late', 'cache-fill-later', 'cache-steps', 'cache-steps-late', 'warmup-late-exp', 'warmup-late-linear', 'leak-late-5', 'leak-late-20', 'leak-after-cache']) {
      expect(kinds).toContain(k);
    }
    for (const source of ['synthetic', 'recorded'] as const) {
      for (const label of ['leak', 'no_leak'] as const) expect(corpus.some((t) => t.source === source && t.label === label)).toBe(true);
    }
    expect(targeted.length).toBeGreaterThanOrEqual(10);
  });

  it.each(clean.map((t) => [t.file, t] as const))('never suspects a leak in %s', (file) => {
    expect(byFile(file).falseAlarmAtS).toBeUndefined();
  });

  it.each(targeted.map((t) => [t.file, t] as const))('flags %s within 300 s of the leak starting', (file, t: MemoryTrace) => {
    const r = byFile(file);
    expect(r.falseAlarmAtS).toBeUndefined();
    expect(r.detectedAtS).toBeDefined();
    expect(r.detectedAtS! - t.leak_start_s!).toBeLessThanOrEqual(300);
  });

  it.each(leaks.filter((t) => t.known_limit !== undefined).map((t) => [t.file, t] as const))(
    'still flags the documented hard case %s, later than 300 s or barely within',
    (file) => {
      const r = byFile(file);
      expect(r.falseAlarmAtS).toBeUndefined();
      expect(r.detectedAtS).toBeDefined();
    },
  );

  it('does not report a leak slower than min_growth_mb_per_min', () => {
    expect(byFile('synthetic-linear-0.5.json').detectedAtS).toBeUndefined();
  });

  it.each(leaks.filter((t) => t.source === 'synthetic' && t.leak_mb_per_min! >= 1).map((t) => [t.file, t] as const))(
    'measures the rate of %s within ±20% of the truth',
    (file, t: MemoryTrace) => {
      const rates = byFile(file).evaluations.filter((e) => e.result.status === 'leak_suspected').map((e) => e.result.mbPerMinute).sort((a, b) => a - b);
      const median = rates[rates.length >> 1]!;
      expect(Math.abs(median / t.leak_mb_per_min! - 1)).toBeLessThanOrEqual(0.2);
      // without a sawtooth every single reading is within ±20%
      if (t.kind.startsWith('linear-')) for (const v of rates) expect(Math.abs(v / t.leak_mb_per_min! - 1)).toBeLessThanOrEqual(0.2);
    },
  );

  it('resets at a restart: warms up again, then flags the leak again', () => {
    const r = byFile('synthetic-leak-restart.json');
    expect(r.detectedAtS).toBeLessThan(360);
    const at = (t: number) => r.evaluations.find((e) => e.t === t)!.result.status;
    expect(at(355)).toBe('leak_suspected');
    expect(at(365)).toBe('warming_up');
    expect(at(595)).toBe('warming_up');
    const again = r.evaluations.find((e) => e.t > 360 && e.result.status === 'leak_suspected');
    expect(again!.t - 360).toBeLessThanOrEqual(300);
  });

  it('scores precision 1 and recall 1 on the leaks the config asks for, and suspects no non-leak at all', () => {
    const all = [...results.values()];
    const s = score(all.filter((r) => inScope(r, CONFIG.minGrowthMbPerMin)));
    expect(s.recall).toBe(1);
    // no non-leak is suspected, not even for one evaluation
    expect(all.filter((r) => r.falseAlarmAtS !== undefined).map((r) => r.trace.file)).toEqual([]);
    expect(score(all).precision).toBe(1);
    expect(Math.max(...all.map((r) => r.longestFalseRunS))).toBe(0);
    // and below min_growth_mb_per_min nothing is a leak, by design
    expect(score(all).falseNegatives).toBe(1);
  });
});
