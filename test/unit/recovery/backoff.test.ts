import { handleAll, retry } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from '../../../src/recovery/ExponentialBackoff.js';

/** A small seeded PRNG (mulberry32) so "random" runs are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function durations(b: ExponentialBackoff, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    b = b.next();
    out.push(b.duration);
  }
  return out;
}

describe('ExponentialBackoff', () => {
  it('waits 1 s, then 2 s, 4 s, 8 s with the defaults and no jitter', () => {
    expect(durations(new ExponentialBackoff({ jitter: 0 }), 4)).toEqual([1000, 2000, 4000, 8000]);
  });

  it('stops growing at max_delay', () => {
    expect(durations(new ExponentialBackoff({ jitter: 0, maxDelayMs: 10_000 }), 7)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('grows by a fractional multiplier (PM2-like ×1.5 from 100 ms, capped at 15 s)', () => {
    const d = durations(new ExponentialBackoff({ baseDelayMs: 100, multiplier: 1.5, maxDelayMs: 15_000, jitter: 0 }), 15);
    expect(d.slice(0, 4)).toEqual([100, 150, 225, 338]);
    expect(d.at(-1)).toBe(15_000);
  });

  it('never overflows to Infinity or NaN after very many attempts', () => {
    const b = new ExponentialBackoff({ jitter: 0.5, random: seeded(1) }, 5000);
    expect(b.duration).toBeLessThanOrEqual(60_000);
    expect(b.duration).toBeGreaterThanOrEqual(30_000);
  });

  it('is immutable: next() returns a new position and leaves the old one as it was', () => {
    const first = new ExponentialBackoff({ jitter: 0 }).next();
    const second = first.next();
    expect(second).not.toBe(first);
    expect([first.attempt, first.duration]).toEqual([1, 1000]);
    expect([second.attempt, second.duration]).toEqual([2, 2000]);
    first.next();
    expect(first.attempt).toBe(1);
    expect(first.next().attempt).toBe(2);
  });

  it('starts at attempt 0 with no delay, and reset() goes back there', () => {
    const start = new ExponentialBackoff({ jitter: 0 });
    expect([start.attempt, start.duration]).toEqual([0, 0]);
    const later = start.next().next().next();
    expect(later.reset().attempt).toBe(0);
    expect(later.reset().next().duration).toBe(1000);
  });

  it('restores a persisted position from the attempt argument', () => {
    expect(new ExponentialBackoff({ jitter: 0 }, 3).duration).toBe(4000);
    expect(new ExponentialBackoff({ jitter: 0 }, 3).next().duration).toBe(8000);
  });

  it('keeps every jittered delay within ±jitter of the nominal delay and never above max_delay (1000 seeds)', () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const jitter = (seed % 10) / 10;
      let b = new ExponentialBackoff({ baseDelayMs: 1000, multiplier: 2, maxDelayMs: 60_000, jitter, random: seeded(seed) });
      for (let i = 0; i < 10; i++) {
        b = b.next();
        const nominal = Math.min(60_000, 1000 * 2 ** i);
        expect(b.nominalMs).toBe(nominal);
        expect(b.duration).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - jitter)));
        expect(b.duration).toBeLessThanOrEqual(Math.min(60_000, Math.ceil(nominal * (1 + jitter))));
      }
    }
  });

  it('spreads delays across the whole jitter band, so replicas do not restart in lockstep', () => {
    const firsts = Array.from({ length: 500 }, (_, seed) => new ExponentialBackoff({ jitter: 0.2, random: seeded(seed + 1) }).next().duration);
    expect(Math.min(...firsts)).toBeLessThan(820);
    expect(Math.max(...firsts)).toBeGreaterThan(1180);
    expect(new Set(firsts).size).toBeGreaterThan(100);
  });

  it('maps random 0 to the lower edge of the band and random near 1 to the upper edge', () => {
    expect(new ExponentialBackoff({ jitter: 0.2, random: () => 0 }).next().duration).toBe(800);
    expect(new ExponentialBackoff({ jitter: 0.2, random: () => 0.999999 }).next().duration).toBe(1200);
  });

  it('rejects out-of-range options with a message naming the option', () => {
    expect(() => new ExponentialBackoff({ jitter: 2 })).toThrow('Expected the `jitter` option to be a fraction from 0 to 1, got `2` (number)');
    expect(() => new ExponentialBackoff({ multiplier: 0.5 })).toThrow(/`multiplier`/);
    expect(() => new ExponentialBackoff({ baseDelayMs: -1 })).toThrow(/`baseDelayMs`/);
    expect(() => new ExponentialBackoff({}, -1)).toThrow(/`attempt`/);
  });

  it("plugs into cockatiel's retry policy as its backoff", async () => {
    const waits: number[] = [];
    const policy = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff({ baseDelayMs: 5, jitter: 0 }) });
    policy.onRetry((e) => waits.push(e.delay));
    let calls = 0;
    const result = await policy.execute(() => {
      calls += 1;
      if (calls < 4) throw new Error('transient');
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(waits).toEqual([5, 10, 20]);
  });
});
