import type { IBackoff } from 'cockatiel';

/** A uniform random source in [0, 1), like `Math.random`. Injected so tests are deterministic. */
export type RandomSource = () => number;

export interface ExponentialBackoffOptions {
  /** The first backoff delay, in milliseconds. Default 1000 (`base_delay: 1`). */
  baseDelayMs: number;
  /** Growth factor per attempt, ≥ 1. Default 2 (`backoff_multiplier`). */
  multiplier: number;
  /** Hard ceiling in milliseconds, applied after jitter. Default 60000 (`max_delay: 60`). */
  maxDelayMs: number;
  /**
   * Jitter as a fraction from 0 to 1: each delay is drawn uniformly from
   * `nominal × [1 − jitter, 1 + jitter)`, then capped at `maxDelayMs`. Default 0.2.
   */
  jitter: number;
  /** Source of randomness for jitter. Default `Math.random`. */
  random: RandomSource;
}

export const DEFAULT_BACKOFF_OPTIONS: Readonly<ExponentialBackoffOptions> = Object.freeze({
  baseDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
  random: Math.random,
});

const describe = (v: unknown): string => `\`${String(v)}\` (${typeof v})`;

function validate(o: ExponentialBackoffOptions, attempt: number): void {
  const check = (ok: boolean, name: string, expected: string, got: unknown): void => {
    if (!ok) throw new RangeError(`Expected the \`${name}\` option to be ${expected}, got ${describe(got)}`);
  };
  check(Number.isFinite(o.baseDelayMs) && o.baseDelayMs >= 0, 'baseDelayMs', 'a non-negative number of milliseconds', o.baseDelayMs);
  check(Number.isFinite(o.multiplier) && o.multiplier >= 1, 'multiplier', 'a number ≥ 1', o.multiplier);
  check(Number.isFinite(o.maxDelayMs) && o.maxDelayMs >= 0, 'maxDelayMs', 'a non-negative number of milliseconds', o.maxDelayMs);
  check(Number.isFinite(o.jitter) && o.jitter >= 0 && o.jitter <= 1, 'jitter', 'a fraction from 0 to 1', o.jitter);
  check(typeof o.random === 'function', 'random', 'a function returning [0, 1)', o.random);
  check(Number.isInteger(attempt) && attempt >= 0, 'attempt', 'a non-negative integer', attempt);
}

/**
 * Capped exponential backoff with proportional jitter. Immutable: `next()` returns a
 * new instance and never changes this one, so a caller can keep, persist or share a
 * position safely (the same shape as cockatiel's `IBackoff`, so it also plugs into
 * cockatiel's retry policy).
 *
 * Attempt `n` (1-based) has the nominal delay `min(maxDelayMs, baseDelayMs × multiplier^(n−1))`;
 * `duration` is that delay with jitter applied, in whole milliseconds. Attempt 0 is
 * the starting position and has a duration of 0.
 *
 * @example
 * let b = new ExponentialBackoff({ jitter: 0 });
 * b = b.next(); // b.duration === 1000
 * b = b.next(); // b.duration === 2000
 */
export class ExponentialBackoff implements IBackoff<void> {
  /** How many times `next()` has been called to reach this position. */
  readonly attempt: number;
  /** The delay before jitter, in milliseconds. */
  readonly nominalMs: number;
  /** The delay to wait for this attempt, in milliseconds (jittered, capped). */
  readonly duration: number;
  private readonly options: Readonly<ExponentialBackoffOptions>;

  /**
   * @param options see {@link ExponentialBackoffOptions}; missing ones take their defaults.
   * @param attempt the position to start at (to restore persisted state); default 0.
   * @throws RangeError when an option is out of range; the message names the option.
   */
  constructor(options: Partial<ExponentialBackoffOptions> = {}, attempt = 0) {
    const o = { ...DEFAULT_BACKOFF_OPTIONS, ...options };
    validate(o, attempt);
    this.options = o;
    this.attempt = attempt;
    this.nominalMs = attempt === 0 ? 0 : Math.min(o.maxDelayMs, o.baseDelayMs * o.multiplier ** (attempt - 1));
    const spread = attempt === 0 ? 0 : o.jitter * (2 * o.random() - 1);
    this.duration = Math.round(Math.min(o.maxDelayMs, Math.max(0, this.nominalMs * (1 + spread))));
  }

  /** The next attempt's backoff. */
  next(): ExponentialBackoff {
    return new ExponentialBackoff(this.options, this.attempt + 1);
  }

  /** The starting position (attempt 0) with the same options. */
  reset(): ExponentialBackoff {
    return this.attempt === 0 ? this : new ExponentialBackoff(this.options, 0);
  }
}
