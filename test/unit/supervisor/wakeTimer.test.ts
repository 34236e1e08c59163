import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { replicaAttemptCause } from '../../../src/supervisor/attemptCause.js';
import { WakeTimer } from '../../../src/supervisor/WakeTimer.js';

describe('WakeTimer (the dispatcher wakes when the earliest retry is due, without polling)', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('fires once at the armed time, not before', () => {
    const fire = vi.fn();
    const w = new WakeTimer(fire);
    w.arm(1_002_500);
    vi.advanceTimersByTime(2499);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(w.armedFor).toBeUndefined();
    vi.advanceTimersByTime(60_000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('keeps one timer: re-arming with the same time changes nothing, an earlier or later time replaces it, undefined disarms', () => {
    const fire = vi.fn();
    const w = new WakeTimer(fire);
    w.arm(1_005_000);
    w.arm(1_005_000);
    expect(vi.getTimerCount()).toBe(1);
    w.arm(1_001_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
    w.arm(1_009_000);
    w.arm(undefined);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('fires at once for a time already past', () => {
    const fire = vi.fn();
    new WakeTimer(fire).arm(999_000);
    vi.advanceTimersByTime(0);
    expect(fire).toHaveBeenCalledTimes(1);
  });
});

describe('replicaAttemptCause (why a service replica\'s task attempt ended)', () => {
  it('tells a stop, an operator or alert restart, a health restart and a crash apart', () => {
    expect(replicaAttemptCause(true, { kind: 'crash', code: 1, signal: null })).toBe('supervisor_stopped');
    expect(replicaAttemptCause(false, undefined)).toBe('supervisor_stopped');
    expect(replicaAttemptCause(false, { kind: 'manual' })).toBe('operator_restart');
    expect(replicaAttemptCause(false, { kind: 'alert', alertname: 'AgentTaskStuck' })).toBe('operator_restart');
    expect(replicaAttemptCause(false, { kind: 'unhealthy', finding: 'no heartbeat' })).toBe('unhealthy');
    expect(replicaAttemptCause(false, { kind: 'crash', code: null, signal: 'SIGKILL' })).toBe('crashed');
  });
});
