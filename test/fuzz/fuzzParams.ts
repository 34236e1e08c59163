import type { Parameters } from 'fast-check';

/**
 * Fuzz runs are reproducible: a fixed seed (FUZZ_SEED overrides it to explore
 * further) and a bounded number of runs (FUZZ_RUNS scales them), so each fuzz file
 * stays well under 30 s on a loaded machine. On failure fast-check prints the seed
 * and the shrunk counterexample's path; rerun with FUZZ_SEED=<seed> to replay it.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_251_111);

export function fuzzParams<T>(numRuns: number): Parameters<T> {
  const scale = Number(process.env.FUZZ_RUNS_SCALE ?? 1);
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * scale)), endOnFailure: true };
}
