import { describe, expect, it } from 'vitest';
import { RestartRateLimiter } from '../../../src/controller/RestartRateLimiter.js';
import { TokenBucket } from '../../../src/controller/TokenBucket.js';

describe('TokenBucket', () => {
  it('allows a burst of `capacity`, then one more token per 1/rate seconds', () => {
    const clock = { now: 0 };
    const b = new TokenBucket(3, 0.5, () => clock.now);
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
    expect(b.msUntilNext()).toBe(2000);
    clock.now = 1999;
    expect(b.tryTake()).toBe(false);
    clock.now = 2000;
    expect(b.tryTake()).toBe(true);
    clock.now = 1_000_000; // a long quiet spell refills to capacity, not beyond
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
  });

  it('refuses a capacity below 1 or a rate that is not positive, naming the option', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/capacity to be at least 1, got `0`/);
    expect(() => new TokenBucket(1, 0)).toThrow(/rate to be a positive number .* got `0`/);
  });
});

describe('RestartRateLimiter', () => {
  it('lets at most N restarts per minute through over all targets', () => {
    const clock = { now: 0 };
    const l = new RestartRateLimiter({ maxPerMinute: 3, targetCooldownSeconds: 0, now: () => clock.now });
    const results = Array.from({ length: 10 }, (_, i) => l.tryAcquire(`a-${i}`).ok);
    expect(results.filter(Boolean)).toHaveLength(3);
    const refused = l.tryAcquire('another');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/global limit of 3 alert restarts per minute reached \(next in 20 s\)/);
    clock.now = 20_000;
    expect(l.tryAcquire('another').ok).toBe(true);
    expect(l.tryAcquire('and-another').ok).toBe(false);
  });

  it('restarts one target at most once per cooldown, without spending a global token on a refusal', () => {
    const clock = { now: 0 };
    const l = new RestartRateLimiter({ maxPerMinute: 2, targetCooldownSeconds: 300, now: () => clock.now });
    expect(l.tryAcquire('qaa-0').ok).toBe(true);
    clock.now = 299_000;
    const r = l.tryAcquire('qaa-0');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/qaa-0 was restarted by an alert 299 s ago \(cooldown 300 s\)/);
    expect(l.tryAcquire('qaa-1').ok).toBe(true); // the refusal above took no token
    clock.now = 300_000;
    expect(l.tryAcquire('qaa-0').ok).toBe(true);
  });

  it('restores a cooldown from history (a controller restart does not reset it)', () => {
    const clock = { now: 100_000 };
    const l = new RestartRateLimiter({ targetCooldownSeconds: 300, now: () => clock.now });
    l.remember('qaa-0', 50_000);
    expect(l.tryAcquire('qaa-0').ok).toBe(false);
    clock.now = 350_000;
    expect(l.tryAcquire('qaa-0').ok).toBe(true);
  });

  it('refuses nonsense settings', () => {
    expect(() => new RestartRateLimiter({ maxPerMinute: 0 })).toThrow(/at least 1 per minute, got `0`/);
    expect(() => new RestartRateLimiter({ targetCooldownSeconds: -1 })).toThrow(/non-negative number of seconds, got `-1`/);
  });
});
