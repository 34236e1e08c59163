import { describe, expect, it } from 'vitest';
import { CircuitBreaker, circuitGaugeValue, type CircuitBreakerOptions, type CloseEvent, type OpenEvent } from '../../../src/recovery/CircuitBreaker.js';

const S = 1000;

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const breaker = new CircuitBreaker({ threshold: 3, windowMs: 60 * S, cooldownMs: 10 * S, maxCooldownMs: 50 * S, trialStableMs: 30 * S, clock, ...options });
  const events: string[] = [];
  const opens: OpenEvent[] = [];
  const closes: CloseEvent[] = [];
  breaker.onOpen((e) => { events.push('open'); opens.push(e); });
  breaker.onHalfOpen(() => events.push('half_open'));
  breaker.onClose((e) => { events.push('close'); closes.push(e); });
  const advance = (ms: number): void => { clock.t += ms; };
  const failTimes = (n: number, gapMs = S): void => {
    for (let i = 0; i < n; i++) { breaker.recordFailure(); advance(gapMs); }
  };
  /** Open the breaker, wait out its cooldown and tick into half-open. */
  const toHalfOpen = (): void => {
    failTimes(3, 0);
    advance(10 * S);
    breaker.tick();
  };
  return { clock, breaker, events, opens, closes, advance, failTimes, toHalfOpen };
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold and opens on the threshold-th failure in the window', () => {
    const { breaker, events, opens, clock } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toEqual({ kind: 'closed', failures: [clock.t, clock.t] });
    breaker.recordFailure();
    expect(breaker.state).toEqual({ kind: 'open', openedAt: clock.t, until: clock.t + 10 * S, cooldownMs: 10 * S, trigger: 'threshold' });
    expect(events).toEqual(['open']);
    expect(opens[0]).toEqual({ openedAt: clock.t, until: clock.t + 10 * S, cooldownMs: 10 * S, trigger: 'threshold' });
  });

  it('forgets failures that have left the window, so a slow trickle never opens it', () => {
    const { breaker, failTimes } = setup();
    failTimes(10, 31 * S); // at most 2 failures inside any 60 s window
    expect(breaker.state.kind).toBe('closed');
    expect(breaker.state.kind === 'closed' && breaker.state.failures.length).toBeLessThanOrEqual(2);
  });

  it('goes open → half_open on tick() once the cooldown has ended, and not before', () => {
    const { breaker, events, advance, failTimes, clock } = setup();
    failTimes(3, 0);
    advance(10 * S - 1);
    expect(breaker.tick().kind).toBe('open');
    advance(1);
    expect(breaker.tick()).toEqual({ kind: 'half_open', trialStartedAt: clock.t, cooldownMs: 10 * S });
    expect(breaker.tick().kind).toBe('half_open');
    expect(events).toEqual(['open', 'half_open']);
  });

  it('goes half_open → closed when the trial has run the stable period without failing', () => {
    const { breaker, events, closes, advance, toHalfOpen } = setup();
    toHalfOpen();
    advance(30 * S - 1);
    expect(breaker.tick().kind).toBe('half_open');
    advance(1);
    expect(breaker.tick()).toEqual({ kind: 'closed', failures: [] });
    expect(events).toEqual(['open', 'half_open', 'close']);
    expect(closes[0]?.reason).toBe('stable');
  });

  it('counts the stable period from markTrialStarted(), when the trial process actually started', () => {
    const { breaker, advance, toHalfOpen } = setup();
    toHalfOpen();
    advance(20 * S);
    breaker.markTrialStarted();
    advance(20 * S);
    expect(breaker.tick().kind).toBe('half_open');
    advance(10 * S);
    expect(breaker.tick().kind).toBe('closed');
  });

  it('closes a half-open breaker at once on markStable()', () => {
    const { breaker, closes, toHalfOpen } = setup();
    toHalfOpen();
    breaker.markStable();
    expect(breaker.state.kind).toBe('closed');
    expect(closes).toHaveLength(1);
  });

  it('goes half_open → open with a doubled cooldown when the trial fails, capped at the max cooldown', () => {
    const { breaker, advance, failTimes, opens } = setup();
    failTimes(3, 0);
    const cooldowns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = breaker.state;
      if (s.kind !== 'open') throw new Error(`expected open, got ${s.kind}`);
      cooldowns.push(s.cooldownMs);
      advance(s.cooldownMs);
      expect(breaker.tick().kind).toBe('half_open');
      advance(S);
      breaker.recordFailure();
    }
    expect(cooldowns).toEqual([10 * S, 20 * S, 40 * S, 50 * S, 50 * S]);
    expect(opens.slice(1).every((e) => e.trigger === 'trial_failed')).toBe(true);
  });

  it('uses the base cooldown again for the next opening after it has closed', () => {
    const { breaker, advance, toHalfOpen, failTimes } = setup();
    toHalfOpen();
    breaker.recordFailure(); // reopens for 20 s
    advance(20 * S);
    breaker.tick();
    advance(30 * S);
    breaker.tick(); // closed after a stable trial
    failTimes(3, 0);
    expect(breaker.state).toMatchObject({ kind: 'open', cooldownMs: 10 * S });
  });

  it('ignores failures while open (the agent is not running)', () => {
    const { breaker, failTimes, clock } = setup();
    failTimes(3, 0);
    const before = breaker.state;
    failTimes(5, S);
    expect(breaker.state).toEqual(before);
    expect(breaker.state.kind === 'open' && breaker.state.until).toBe(clock.t - 5 * S + 10 * S);
  });

  it('closes on a manual reset from open and from half-open, and forgets the failure window', () => {
    const { breaker, closes, failTimes, toHalfOpen } = setup();
    failTimes(3, 0);
    breaker.reset();
    expect(breaker.state).toEqual({ kind: 'closed', failures: [] });
    toHalfOpen();
    breaker.reset();
    expect(breaker.state).toEqual({ kind: 'closed', failures: [] });
    expect(closes.map((c) => c.reason)).toEqual(['manual', 'manual']);
  });

  it('clears the failure window on a reset while closed, without a close event', () => {
    const { breaker, events } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.reset();
    breaker.recordFailure();
    expect(breaker.state.kind === 'closed' && breaker.state.failures.length).toBe(1);
    expect(events).toEqual([]);
  });

  it('trip() opens at once: base cooldown from closed, doubled from half-open, no-op when open', () => {
    const { breaker, advance, opens } = setup();
    expect(breaker.trip()).toMatchObject({ kind: 'open', cooldownMs: 10 * S, trigger: 'tripped' });
    breaker.trip();
    expect(opens).toHaveLength(1);
    advance(10 * S);
    breaker.tick();
    expect(breaker.trip()).toMatchObject({ kind: 'open', cooldownMs: 20 * S, trigger: 'tripped' });
  });

  it('reports when tick() next has work: the end of the cooldown, then the end of the trial', () => {
    const { breaker, clock, failTimes, advance } = setup();
    expect(breaker.nextTransitionAt()).toBeUndefined();
    failTimes(3, 0);
    expect(breaker.nextTransitionAt()).toBe(clock.t + 10 * S);
    advance(10 * S);
    breaker.tick();
    expect(breaker.nextTransitionAt()).toBe(clock.t + 30 * S);
  });

  it('stops calling a listener once it is disposed', () => {
    const { breaker } = setup();
    let calls = 0;
    const handle = breaker.onOpen(() => { calls += 1; });
    breaker.trip();
    handle.dispose();
    breaker.reset();
    breaker.trip();
    expect(calls).toBe(1);
  });

  it('finishes the transition and reports the error when a listener throws', () => {
    const errors: unknown[] = [];
    const { breaker } = setup({ onListenerError: (e) => errors.push(e) });
    breaker.onOpen(() => { throw new Error('bad listener'); });
    expect(() => breaker.trip()).not.toThrow();
    expect(breaker.state.kind).toBe('open');
    expect(errors).toEqual([new Error('bad listener')]);
  });

  it('maps states to the circuit-state gauge: 0 closed, 1 half-open, 2 open', () => {
    const { breaker, advance } = setup();
    expect(circuitGaugeValue(breaker.state)).toBe(0);
    breaker.trip();
    expect(circuitGaugeValue(breaker.state)).toBe(2);
    advance(10 * S);
    expect(circuitGaugeValue(breaker.tick())).toBe(1);
  });

  it('rejects out-of-range options with a message naming the option', () => {
    expect(() => new CircuitBreaker({ threshold: 0 })).toThrow(/`threshold` option to be a number ≥ 1, got `0`/);
    expect(() => new CircuitBreaker({ windowMs: Number.NaN })).toThrow(/`windowMs`/);
  });
});
