/**
 * Measures the memory-leak detector on the labelled corpus in
 * test/fixtures/memory-traces/, replayed as a 5 s stream with the default
 * config (window 300 s, warm-up 60 s, 1 MB/min, R² 0.6, max_memory_mb 1024).
 * Prints each trace's verdict and detection delay, precision and recall, a
 * Monte Carlo run of the synthetic generator over fresh seeds, and the cost of
 * a Theil–Sen fit.
 *
 *   npx tsx bench/leak-corpus.ts [--seeds 50] [--first-seed 1]
 *
 * Seeds 1–20 were used while the detector was developed, and 1001–3100 to check
 * candidates (faults found there were fixed, so they are development data too);
 * the hold-out run that nothing was tuned on is `--seeds 100 --first-seed 4001`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LeakDetector } from '../src/health/leak/LeakDetector.js';
import { theilSen, type Point } from '../src/health/leak/theilSen.js';
import { leakConfirmSeconds } from '../src/health/memoryLeaks.js';
import { CORPUS_DIR, inScope, loadCorpus, replay, score, type MemoryTrace, type ReplayResult } from '../test/fixtures/memory-traces/corpus.js';

const OPTIONS = { windowSeconds: 300, warmupSeconds: 60, minGrowthMbPerMin: 1, minRSquared: 0.6, maxMemoryMb: 1024 };
/** The target: every leak of at least this rate is flagged within TARGET_DELAY_S of its start. */
const TARGET_RATE = 2;
const TARGET_DELAY_S = 300;

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '50' }, 'first-seed': { type: 'string', default: '1' } } });

const delayOf = (r: ReplayResult): number | undefined => (r.detectedAtS === undefined ? undefined : r.detectedAtS - r.trace.leak_start_s!);
const inTarget = (r: ReplayResult): boolean => r.trace.label === 'leak' && r.trace.leak_mb_per_min! >= TARGET_RATE && r.trace.known_limit === undefined;
const metTarget = (r: ReplayResult): boolean => (delayOf(r) ?? Infinity) <= TARGET_DELAY_S && r.falseAlarmAtS === undefined;

function table(results: readonly ReplayResult[]): void {
  console.log('| trace | label | true MB/min | verdict | delay s | MB/min at detection | false alarm at s |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const t = r.trace;
    const at = r.evaluations.find((e) => e.t === r.detectedAtS)?.result.mbPerMinute;
    const verdict = t.label === 'leak' ? (r.detectedAtS === undefined ? 'missed' : 'detected') : r.falseAlarmAtS === undefined ? 'clean' : 'FALSE POSITIVE';
    const cells = [t.file.replace(/\.json$/, ''), t.label, t.leak_mb_per_min ?? '–', verdict, delayOf(r) ?? '–', at === undefined ? '–' : at.toFixed(2), r.falseAlarmAtS ?? '–'];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

function summary(name: string, results: readonly ReplayResult[]): void {
  const s = score(results);
  const target = results.filter(inTarget);
  const delays = target.map(delayOf).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const scoped = score(results.filter((r) => inScope(r, OPTIONS.minGrowthMbPerMin)));
  const longest = Math.max(0, ...results.map((r) => r.longestFalseRunS));
  const restartable = results.filter((r) => r.longestFalseRunS >= leakConfirmSeconds(OPTIONS.windowSeconds)).length;
  console.log(
    `${name}: precision ${s.precision.toFixed(3)}, recall ${s.recall.toFixed(3)} ` +
      `(TP ${s.truePositives}, FN ${s.falseNegatives}, FP ${s.falsePositives}, TN ${s.trueNegatives}); ` +
      `leaks ≥ ${TARGET_RATE} MB/min within ${TARGET_DELAY_S} s: ${target.filter(metTarget).length}/${target.length}, ` +
      `delay median ${delays[delays.length >> 1] ?? '–'} s, max ${delays.at(-1) ?? '–'} s; ` +
      `leaks ≥ min_growth_mb_per_min: precision ${scoped.precision.toFixed(3)}, recall ${scoped.recall.toFixed(3)}; ` +
      `longest false suspicion ${longest} s, non-leaks suspected for the ${leakConfirmSeconds(OPTIONS.windowSeconds)} s a restart needs: ${restartable}`,
  );
}

const corpus = loadCorpus();
const results = corpus.map((t) => replay(t, OPTIONS));
table(results);
console.log();
summary('corpus', results);
summary('  synthetic', results.filter((r) => r.trace.source === 'synthetic'));
summary('  recorded', results.filter((r) => r.trace.source === 'recorded'));

// Monte Carlo: the same synthetic kinds with fresh noise, to show the corpus result is not one lucky seed.
type Synth = (seed: number) => Array<Omit<MemoryTrace, 'file'>>;
const gen = (await import(pathToFileURL(join(CORPUS_DIR, 'generate-synthetic.mjs')).href)) as { synthesize: Synth };
const seeds = Number(values.seeds);
const firstSeed = Number(values['first-seed']);
const mc: ReplayResult[] = [];
for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
  for (const t of gen.synthesize(seed)) mc.push(replay({ ...t, file: `${t.kind}#${seed}` }, OPTIONS));
}
console.log();
summary(`monte carlo (seeds ${firstSeed}–${firstSeed + seeds - 1} × ${mc.length / seeds} synthetic kinds)`, mc);
const byKind = new Map<string, ReplayResult[]>();
for (const r of mc) byKind.set(r.trace.kind, [...(byKind.get(r.trace.kind) ?? []), r]);
for (const [kind, rs] of byKind) {
  const first = rs[0]!;
  const [bad, what] =
    first.trace.label === 'no_leak'
      ? [rs.filter((r) => r.falseAlarmAtS !== undefined), 'false positives']
      : inTarget(first)
        ? [rs.filter((r) => !metTarget(r)), `missed the ${TARGET_DELAY_S} s target`]
        : [rs.filter((r) => r.detectedAtS === undefined), 'never detected (outside the target)'];
  const delays = rs.map(delayOf).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const median = delays[delays.length >> 1] ?? '–';
  const longest = Math.max(0, ...rs.map((r) => r.longestFalseRunS));
  const extra = first.trace.label === 'no_leak' ? (longest > 0 ? `; longest false suspicion ${longest} s` : '') : `; delay median ${median} s, max ${delays.at(-1) ?? '–'} s`;
  console.log(`  ${kind}: ${bad.length}/${rs.length} ${what}${extra}`);
}

// Cost and accuracy of one Theil–Sen fit: exact (O(n²) pairs) and the sampled variant used past MAX_EXACT_PAIRS.
console.log();
const timeIt = (f: () => void, reps: number): number => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1e3 / reps;
};
for (const n of [20, 60, 120, 300, 1000]) {
  const pts: Point[] = Array.from({ length: n }, (_, i) => [i * 5, 1e8 + i * 3e4 + ((i * 7919) % 101) * 1e4]);
  const exact = theilSen(pts, Infinity).slope;
  const sampled = theilSen(pts).slope;
  const reps = Math.max(3, Math.round(1e6 / (n * n)));
  console.log(
    `theilSen n=${n}: exact ${timeIt(() => theilSen(pts, Infinity), reps).toFixed(1)} µs, ` +
      `default ${timeIt(() => theilSen(pts), reps).toFixed(1)} µs (slope off by ${((Math.abs(sampled - exact) / exact) * 100).toFixed(2)}%)`,
  );
}

// Cost of a whole evaluate() in a 5 s stream (window full, 3 windows of history).
const stream = new LeakDetector(OPTIONS);
for (let t = 5; t <= 900; t += 5) stream.add(t * 1000, 2e8 + t * 3e4 + ((t * 7919) % 13) * 1e5);
console.log(`evaluate() at 5 s sampling: ${timeIt(() => stream.evaluate(900_000), 200).toFixed(0)} µs`);
const fast = new LeakDetector(OPTIONS);
for (let t = 1; t <= 900; t += 1) fast.add(t * 1000, 2e8 + t * 3e4 + ((t * 7919) % 13) * 1e5);
console.log(`evaluate() at 1 s sampling: ${timeIt(() => fast.evaluate(900_000), 50).toFixed(0)} µs`);
