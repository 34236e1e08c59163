import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { BackoffRestartPolicy, type BackoffRestartPolicyOptions, type CircuitChange } from '../../../src/recovery/BackoffRestartPolicy.js';
import type { ExitCause, RestartDecision } from '../../../src/recovery/RestartPolicy.js';

const S = 1000;
const CRASH: ExitCause = { kind: 'crash', code: 1, signal: null };
const UNHEALTHY: ExitCause = { kind: 'unhealthy', finding: 'agent_response: no heartbeat for 15 s (threshold 15 s)' };
const ALERT: ExitCause = { kind: 'alert', alertname: 'AgentCrashLooping' };
const MANUAL: ExitCause = { kind: 'manual' };

function setup(options: Partial<BackoffRestartPolicyOptions> = {}) {
  const clock = { t: 1_700_000_000_000, now() { return this.t; } };
  const policy = new BackoffRestartPolicy({
    restartAttempts: 5, baseDelayMs: S, multiplier: 2, maxDelayMs: 60 * S, jitter: 0, stableUptimeMs: 300 * S,
    breakerThreshold: 100, breakerWindowMs: 300 * S, breakerCooldownMs: 60 * S, breakerMaxCooldownMs: 900 * S, clock, ...options,
  });
  const advance = (ms: number): void => { clock.t += ms; };
  /** The agent runs for `uptimeMs` (onStarted at the start) and then fails with `cause`. */
  const runAndFail = (uptimeMs: number, cause: ExitCause = CRASH, id = 'qaa'): RestartDecision => {
    policy.onStarted(id);
    advance(uptimeMs);
    return policy.onFailure(id, cause, uptimeMs);
  };
  /** Follows each restart decision's delay, as the supervisor would. */
  const crashLoop = (n: number, uptimeMs = 2 * S, cause: ExitCause = CRASH, id = 'qaa'): RestartDecision[] => {
    const out: RestartDecision[] = [];
    for (let i = 0; i < n; i++) {
      const d = runAndFail(uptimeMs, cause, id);
      out.push(d);
      if (d.action === 'restart') advance(d.delayMs);
    }
    return out;
  };
  const delays = (ds: RestartDecision[]): (number | string)[] => ds.map((d) => (d.action === 'restart' ? d.delayMs : d.action));
  return { clock, policy, advance, runAndFail, crashLoop, delays };
}

describe('BackoffRestartPolicy: backoff', () => {
  it('restarts a crashed stable agent immediately, then after 1 s, then 2 s, then 4 s', () => {
    const { crashLoop, delays } = setup();
    const ds = crashLoop(4);
    expect(delays(ds)).toEqual([0, 1000, 2000, 4000]);
    expect(ds.map((d) => d.action === 'restart' && d.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('caps the delay at max_delay', () => {
    const { crashLoop, delays } = setup({ restartAttempts: 10, maxDelayMs: 5 * S });
    expect(delays(crashLoop(6))).toEqual([0, 1000, 2000, 4000, 5000, 5000]);
  });

  it('keeps jittered delays inside the ±jitter band for the policy too', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const { crashLoop, delays } = setup({ jitter: 0.2, random: () => r });
      const [, second, third] = delays(crashLoop(3)) as number[];
      expect(second).toBeGreaterThanOrEqual(800);
      expect(second).toBeLessThanOrEqual(1200);
      expect(third).toBeGreaterThanOrEqual(1600);
      expect(third).toBeLessThanOrEqual(2400);
    }
  });

  it('starts a new episode after stable_uptime of uptime: the next crash restarts immediately again', () => {
    const { crashLoop, runAndFail, delays, policy } = setup();
    crashLoop(3);
    expect(policy.snapshot('qaa').consecutiveFailures).toBe(3);
    expect(delays([runAndFail(300 * S)])).toEqual([0]);
    expect(policy.snapshot('qaa')).toMatchObject({ consecutiveFailures: 1, attempt: 1 });
  });

  it('does not reset the episode for a run just short of stable_uptime', () => {
    const { crashLoop, runAndFail, delays } = setup();
    crashLoop(3);
    expect(delays([runAndFail(300 * S - 1)])).toEqual([4000]);
  });

  it('resets the episode once a running agent passes stable_uptime, as seen by dueTrials()', () => {
    const { crashLoop, policy, advance } = setup();
    crashLoop(3);
    policy.onStarted('qaa');
    advance(300 * S);
    expect(policy.snapshot('qaa').consecutiveFailures).toBe(3);
    expect(policy.dueTrials()).toEqual([]);
    expect(policy.snapshot('qaa')).toMatchObject({ consecutiveFailures: 0, attempt: 0, nextRetryAt: null });
  });

  it('sends unhealthy verdicts and alerts through the same backoff as crashes', () => {
    const { runAndFail, advance, delays } = setup();
    const ds = [runAndFail(S, CRASH), runAndFail(S, UNHEALTHY)];
    advance(1000);
    ds.push(runAndFail(S, ALERT));
    expect(delays(ds)).toEqual([0, 1000, 2000]);
  });

  it('keeps one state per agent id: one agent crash-looping does not slow another', () => {
    const { crashLoop, delays, runAndFail } = setup();
    crashLoop(4, 2 * S, CRASH, 'qaa');
    expect(delays([runAndFail(S, CRASH, 'saa')])).toEqual([0]);
  });
});

describe('BackoffRestartPolicy: manual restarts', () => {
  it('does not count a manual restart as a failure: delay 0, attempt 0, counters unchanged', () => {
    const { crashLoop, runAndFail, delays, policy } = setup();
    crashLoop(2);
    const d = runAndFail(S, MANUAL);
    expect(d).toEqual({ action: 'restart', delayMs: 0, attempt: 0 });
    expect(policy.snapshot('qaa')).toMatchObject({ consecutiveFailures: 2, attempt: 2 });
    expect(delays([runAndFail(S)])).toEqual([2000]);
  });

  it('never opens the breaker or exhausts attempts with manual restarts alone', () => {
    const { crashLoop, delays } = setup({ restartAttempts: 1, breakerThreshold: 2 });
    expect(delays(crashLoop(10, S, MANUAL))).toEqual(Array(10).fill(0));
  });
});

describe('BackoffRestartPolicy: restart_attempts and escalation', () => {
  it('gives up after restart_attempts restarts in one episode and leaves a breaker trial due', () => {
    const { crashLoop, delays, policy, clock } = setup({ restartAttempts: 3 });
    const ds = crashLoop(4);
    expect(delays(ds)).toEqual([0, 1000, 2000, 'give_up']);
    const last = ds[3];
    expect(last).toMatchObject({ action: 'give_up', retryAt: clock.t + 60 * S });
    expect(last?.action === 'give_up' && last.reason).toMatch(/3 restart attempts exhausted after 4 consecutive failures; escalating.*background reset qaa/);
    expect(policy.snapshot('qaa')).toMatchObject({ gaveUp: true, attempt: 3, nextRetryAt: clock.t + 60 * S, breaker: { kind: 'open', trigger: 'tripped' } });
  });

  it('with restart_attempts 0 gives up on the first failure', () => {
    const { runAndFail } = setup({ restartAttempts: 0 });
    expect(runAndFail(S).action).toBe('give_up');
  });

  it('after give_up, a trial that stays up stable_uptime starts a fresh episode', () => {
    const { crashLoop, policy, advance, runAndFail, delays } = setup({ restartAttempts: 2 });
    crashLoop(3);
    advance(60 * S);
    expect(policy.dueTrials()).toEqual(['qaa']);
    policy.onStarted('qaa');
    advance(300 * S);
    policy.dueTrials();
    expect(policy.snapshot('qaa')).toMatchObject({ gaveUp: false, attempt: 0, consecutiveFailures: 0, breaker: { kind: 'closed' } });
    expect(delays([runAndFail(S), runAndFail(S)])).toEqual([0, 1000]);
  });
});

describe('BackoffRestartPolicy: circuit breaker', () => {
  it('opens after circuit_breaker_threshold failures within breaker_window and then refuses restarts', () => {
    const { crashLoop, delays, policy, clock } = setup({ breakerThreshold: 3 });
    const ds = crashLoop(3);
    expect(delays(ds)).toEqual([0, 1000, 'circuit_open']);
    const opened = ds[2];
    expect(opened).toMatchObject({ action: 'circuit_open', retryAt: clock.t + 60 * S });
    expect(opened?.action === 'circuit_open' && opened.reason).toMatch(/3 failures within 300 s: circuit breaker open for 60 s.*background reset qaa/);
    expect(policy.onFailure('qaa', ALERT, 0)).toMatchObject({ action: 'circuit_open', retryAt: clock.t + 60 * S });
    expect(policy.circuitState('qaa').kind).toBe('open');
  });

  it('does not count an alert that arrives while open (an alert storm cannot extend the cooldown)', () => {
    const { crashLoop, policy, clock, advance } = setup({ breakerThreshold: 2 });
    crashLoop(2);
    const until = clock.t + 60 * S;
    for (let i = 0; i < 20; i++) {
      advance(S);
      expect(policy.onFailure('qaa', ALERT, 0)).toMatchObject({ action: 'circuit_open', retryAt: until });
    }
    expect(policy.snapshot('qaa').consecutiveFailures).toBe(2);
  });

  it('refuses a manual restart while open and says how to reset', () => {
    const { crashLoop, policy } = setup({ breakerThreshold: 2 });
    crashLoop(2);
    const d = policy.onFailure('qaa', MANUAL, 0);
    expect(d.action).toBe('circuit_open');
    expect(d.action === 'circuit_open' && d.reason).toMatch(/Run `background reset qaa`/);
  });

  it('hands out exactly one trial start when the cooldown ends', () => {
    const { crashLoop, policy, advance } = setup({ breakerThreshold: 2 });
    crashLoop(2);
    advance(60 * S - 1);
    expect(policy.dueTrials()).toEqual([]);
    advance(1);
    expect(policy.dueTrials()).toEqual(['qaa']);
    expect(policy.dueTrials()).toEqual([]);
    expect(policy.circuitState('qaa').kind).toBe('half_open');
  });

  it('closes after the trial stays up stable_uptime, and the next crash restarts immediately', () => {
    const { crashLoop, policy, advance, runAndFail, delays } = setup({ breakerThreshold: 2 });
    crashLoop(2);
    advance(60 * S);
    policy.dueTrials();
    policy.onStarted('qaa');
    advance(300 * S);
    policy.dueTrials();
    expect(policy.circuitState('qaa')).toEqual({ kind: 'closed', failures: [] });
    expect(delays([runAndFail(S)])).toEqual([0]);
  });

  it('counts the trial stable period from onStarted, when the agent was slow to come up', () => {
    const { crashLoop, policy, advance } = setup({ breakerThreshold: 2 });
    crashLoop(2);
    advance(60 * S);
    policy.dueTrials();
    advance(20 * S);
    policy.onStarted('qaa');
    advance(300 * S - 1);
    policy.dueTrials();
    expect(policy.circuitState('qaa').kind).toBe('half_open');
    advance(1);
    policy.dueTrials();
    expect(policy.circuitState('qaa').kind).toBe('closed');
  });

  it('ends the failure episode whenever the breaker closes, even if onStarted was never reported', () => {
    const { crashLoop, policy, advance } = setup({ restartAttempts: 1 });
    expect(crashLoop(2).map((d) => d.action)).toEqual(['restart', 'give_up']);
    advance(60 * S);
    expect(policy.dueTrials()).toEqual(['qaa']);
    advance(300 * S);
    policy.dueTrials();
    expect(policy.snapshot('qaa')).toMatchObject({ gaveUp: false, attempt: 0, consecutiveFailures: 0, breaker: { kind: 'closed' } });
  });

  it('treats a trial that exits after stable_uptime as successful, even before dueTrials() noticed', () => {
    const { crashLoop, policy, advance, runAndFail, delays } = setup({ breakerThreshold: 2 });
    crashLoop(2);
    advance(60 * S);
    policy.dueTrials();
    expect(delays([runAndFail(300 * S)])).toEqual([0]);
    expect(policy.circuitState('qaa').kind).toBe('closed');
  });

  it('reopens with a doubled cooldown when the trial fails, up to breaker_max_cooldown', () => {
    const { crashLoop, policy, advance, runAndFail } = setup({ breakerThreshold: 2, breakerMaxCooldownMs: 200 * S });
    crashLoop(2);
    const cooldowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = policy.circuitState('qaa');
      if (s.kind !== 'open') throw new Error(`expected open, got ${s.kind}`);
      cooldowns.push(s.cooldownMs);
      advance(s.cooldownMs);
      expect(policy.dueTrials()).toEqual(['qaa']);
      const d = runAndFail(5 * S);
      expect(d.action === 'circuit_open' && d.reason).toMatch(/half-open trial start failed/);
    }
    expect(cooldowns).toEqual([60 * S, 120 * S, 200 * S, 200 * S]);
  });

  it('closes on a manual reset and clears every counter', () => {
    const { crashLoop, policy, runAndFail, delays } = setup({ breakerThreshold: 3 });
    crashLoop(3);
    policy.reset('qaa');
    expect(policy.snapshot('qaa')).toEqual({ consecutiveFailures: 0, attempt: 0, breaker: { kind: 'closed', failures: [] }, nextRetryAt: null, gaveUp: false });
    expect(delays([runAndFail(S), runAndFail(S)])).toEqual([0, 1000]);
  });

  it('reports every breaker transition with the agent id', () => {
    const { crashLoop, policy, advance } = setup({ breakerThreshold: 2 });
    const seen: string[] = [];
    policy.onCircuitChange((c: CircuitChange) => seen.push(`${c.agentId}:${c.state.kind}`));
    crashLoop(2);
    advance(60 * S);
    policy.dueTrials();
    policy.reset('qaa');
    expect(seen).toEqual(['qaa:open', 'qaa:half_open', 'qaa:closed']);
  });
});

describe('BackoffRestartPolicy: status and scheduling', () => {
  it('reports nextRetryAt for a pending restart and for an open breaker', () => {
    const { crashLoop, runAndFail, policy, clock } = setup({ breakerThreshold: 3 });
    crashLoop(1);
    runAndFail(S);
    expect(policy.snapshot('qaa').nextRetryAt).toBe(clock.t + 1000);
    policy.onStarted('qaa');
    expect(policy.snapshot('qaa').nextRetryAt).toBeNull();
    runAndFail(S);
    expect(policy.snapshot('qaa').nextRetryAt).toBe(clock.t + 60 * S);
  });

  it('says when dueTrials() next has work: cooldown end, then the end of the trial', () => {
    const { crashLoop, policy, advance, clock } = setup({ breakerThreshold: 2 });
    expect(policy.nextWakeAt()).toBeUndefined();
    crashLoop(2);
    expect(policy.nextWakeAt()).toBe(clock.t + 60 * S);
    advance(60 * S);
    policy.dueTrials();
    policy.onStarted('qaa');
    expect(policy.nextWakeAt()).toBe(clock.t + 300 * S);
  });

  it('reports a closed, empty state for an agent it has never seen', () => {
    const { policy } = setup();
    expect(policy.snapshot('nobody')).toEqual({ consecutiveFailures: 0, attempt: 0, breaker: { kind: 'closed', failures: [] }, nextRetryAt: null, gaveUp: false });
  });

  it('builds from the recovery config, converting seconds to milliseconds', () => {
    const recovery = configSchema.parse({
      background: { monitoring: { recovery: { base_delay: 2, backoff_multiplier: 3, max_delay: 10, jitter: 0, circuit_breaker_threshold: 100, restart_attempts: 4 } } },
    }).background.monitoring.recovery;
    const clock = { now: () => 0 };
    const policy = BackoffRestartPolicy.fromConfig(recovery, { clock });
    const ds = [0, 1, 2, 3, 4].map(() => policy.onFailure('qaa', CRASH, 0));
    expect(ds.map((d) => (d.action === 'restart' ? d.delayMs : d.action))).toEqual([0, 2000, 6000, 10_000, 'give_up']);
  });
});
