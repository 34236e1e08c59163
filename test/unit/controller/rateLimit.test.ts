import { describe, expect, it } from 'vitest';
import { MemoryCooldowns } from '../../../src/controller/ReplicaCooldowns.js';
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

const one = (slot: string, supervisor: string | null = null) => ({ supervisor, slots: [slot] });

describe('RestartRateLimiter', () => {
  it('lets at most N restarts per minute through over all replicas', () => {
    const clock = { now: 0 };
    const l = new RestartRateLimiter({ maxPerMinute: 3, targetCooldownSeconds: 0, now: () => clock.now });
    const results = Array.from({ length: 10 }, (_, i) => l.tryAcquire(one(`a-${i}`), `k${i}`).ok);
    expect(results.filter(Boolean)).toHaveLength(3);
    const refused = l.tryAcquire(one('another'), 'k');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/^global limit of 3 alert restarts per minute reached \(next in 20 s\)$/);
    clock.now = 20_000;
    expect(l.tryAcquire(one('another'), 'k').ok).toBe(true);
    expect(l.tryAcquire(one('and-another'), 'k2').ok).toBe(false);
  });

  it('restarts one replica at most once per cooldown, without spending a global token on a refusal', () => {
    const clock = { now: 0 };
    const l = new RestartRateLimiter({ maxPerMinute: 2, targetCooldownSeconds: 300, now: () => clock.now });
    expect(l.tryAcquire(one('qaa-0'), 'a')).toEqual({ ok: true, slots: ['qaa-0'], cooling: [] });
    clock.now = 299_000;
    expect(l.tryAcquire(one('qaa-0'), 'b')).toEqual({ ok: false, reason: 'qaa-0 was restarted by an alert 299 s ago; the cooldown between alert restarts of one replica is 300 s, so the next is possible in 1 s' });
    expect(l.tryAcquire(one('qaa-1'), 'c').ok).toBe(true); // the refusal above took no token
    clock.now = 300_000;
    expect(l.tryAcquire(one('qaa-0'), 'd').ok).toBe(true);
  });

  it('leaves out the replicas inside their cooldown and grants the rest, naming them', () => {
    const clock = { now: 0 };
    const l = new RestartRateLimiter({ targetCooldownSeconds: 300, now: () => clock.now });
    l.tryAcquire({ supervisor: null, slots: ['qaa-0', 'qaa-2'] }, 'a');
    clock.now = 40_000;
    l.tryAcquire(one('qaa-1'), 'b');
    clock.now = 52_000;
    expect(l.tryAcquire({ supervisor: null, slots: ['qaa-0', 'qaa-1', 'qaa-3'] }, 'c')).toEqual({ ok: true, slots: ['qaa-3'], cooling: [{ slot: 'qaa-0', agoMs: 52_000 }, { slot: 'qaa-1', agoMs: 12_000 }] });
    const all = l.tryAcquire({ supervisor: null, slots: ['qaa-0', 'qaa-1', 'qaa-2'] }, 'd');
    expect(all).toEqual({ ok: false, reason: 'qaa-0, qaa-1 and qaa-2 were restarted by an alert 52, 12 and 52 s ago; the cooldown between alert restarts of one replica is 300 s, so the next is possible in 248 s' });
  });

  it('keeps the cooldowns of same-named replicas of different supervisors apart', () => {
    const l = new RestartRateLimiter({ targetCooldownSeconds: 300, now: () => 0 });
    expect(l.tryAcquire(one('qaa-0', 'http://10.0.0.5:9464'), 'a').ok).toBe(true);
    expect(l.tryAcquire(one('qaa-0', 'http://10.0.0.6:9464'), 'b').ok).toBe(true);
    expect(l.tryAcquire(one('qaa-0'), 'c').ok).toBe(true);
    expect(l.tryAcquire(one('qaa-0', 'http://10.0.0.5:9464'), 'd').ok).toBe(false);
  });

  it('reads the cooldown from its ledger (a restarted controller does not reset it) and gives it back on release', () => {
    const clock = { now: 100_000 };
    const ledger = new MemoryCooldowns();
    ledger.markRestarted(null, ['qaa-0'], 50_000, 'before-the-restart');
    const l = new RestartRateLimiter({ targetCooldownSeconds: 300, ledger, now: () => clock.now });
    expect(l.tryAcquire(one('qaa-0'), 'x').ok).toBe(false);
    l.release('before-the-restart');
    expect(l.tryAcquire(one('qaa-0'), 'y').ok).toBe(true);
    expect(ledger.lastRestart(null, 'qaa-0')).toBe(100_000);
  });

  it('refuses nonsense settings', () => {
    expect(() => new RestartRateLimiter({ maxPerMinute: 0 })).toThrow(/at least 1 per minute, got `0`/);
    expect(() => new RestartRateLimiter({ targetCooldownSeconds: -1 })).toThrow(/non-negative number of seconds, got `-1`/);
  });
});
