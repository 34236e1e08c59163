import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import type { RunState } from '../../../src/supervisor/PerTaskRunState.js';
import { RunPolicy } from '../../../src/supervisor/RunPolicy.js';

const T0 = 1_700_000_000_000;

function bg(agent: Record<string, unknown>, taskProgress: Record<string, unknown> = {}, monitoring: Record<string, unknown> = {}) {
  return parseConfig({ background: { monitoring: { ...monitoring, health_checks: { task_progress: taskProgress } }, agents: [{ name: 'claude', mode: 'per_task', command: ['claude'], ...agent }] } }).background;
}
const policyOf = (agent: Record<string, unknown> = {}, tp: Record<string, unknown> = {}, mon: Record<string, unknown> = {}) => {
  const b = bg(agent, tp, mon);
  return RunPolicy.fromConfig(b.agents[0]!, b);
};
const view = (state: RunState, lastOutputAt = T0) => ({ state, startedAt: T0, lastOutputAt });
const streaming: RunState = { kind: 'streaming', since: T0 };

describe('RunPolicy', () => {
  it('takes the agent\'s task_timeout, else max_task_duration (as the task_progress check does), the stale threshold and result_grace from the config', () => {
    expect(policyOf({ task_timeout: 600 }, { max_task_duration: 3600, stale_task_threshold: 180 }).limits).toEqual({ taskTimeoutMs: 600_000, taskTimeoutKey: 'task_timeout', staleMs: 180_000, resultGraceMs: 10_000 });
    expect(policyOf({ result_grace: '2s' }, { max_task_duration: 300 }).limits).toEqual({ taskTimeoutMs: 300_000, taskTimeoutKey: 'max_task_duration', staleMs: 180_000, resultGraceMs: 2000 });
  });

  it('applies the task_progress thresholds only while that check is enabled; an agent\'s own task_timeout always applies', () => {
    expect(policyOf({}, { enabled: false }).limits).toMatchObject({ taskTimeoutMs: undefined, staleMs: undefined });
    expect(policyOf({ task_timeout: 60 }, { enabled: false }).limits).toMatchObject({ taskTimeoutMs: 60_000, staleMs: undefined });
    expect(policyOf({}, {}, { enabled: false }).limits).toMatchObject({ taskTimeoutMs: undefined, staleMs: undefined });
    expect(policyOf({}, { enabled: false }).decide(view(streaming), T0 + 1e9)).toEqual({ action: 'none' });
  });

  it('waits until the earlier of the timeout and the stale deadline, which moves with output', () => {
    const p = policyOf({ task_timeout: 600 }, { stale_task_threshold: 180 });
    expect(p.decide(view(streaming), T0 + 1000)).toEqual({ action: 'wait', until: T0 + 180_000 });
    expect(p.decide(view(streaming, T0 + 500_000), T0 + 500_001)).toEqual({ action: 'wait', until: T0 + 600_000 });
    expect(p.decide(view({ kind: 'spawned', since: T0 }), T0)).toEqual({ action: 'wait', until: T0 + 180_000 });
  });

  it('stops a run at task_timeout with the reason and the key that set it', () => {
    const p = policyOf({ task_timeout: 600 });
    expect(p.decide(view(streaming, T0 + 599_000), T0 + 599_999)).toMatchObject({ action: 'wait' });
    expect(p.decide(view(streaming, T0 + 599_000), T0 + 600_000)).toEqual({ action: 'stop', reason: { cause: 'timeout', detail: 'timed out after 600 s (task_timeout)' } });
    expect(policyOf({}, { max_task_duration: 300 }).decide(view(streaming, T0 + 299_000), T0 + 300_000)).toEqual({ action: 'stop', reason: { cause: 'timeout', detail: 'timed out after 300 s (max_task_duration)' } });
  });

  it('stops a run that printed nothing for stale_task_threshold, and not a millisecond before', () => {
    const p = policyOf({}, { stale_task_threshold: 180 });
    expect(p.decide(view(streaming, T0 + 10_000), T0 + 189_999)).toEqual({ action: 'wait', until: T0 + 190_000 });
    expect(p.decide(view(streaming, T0 + 10_000), T0 + 190_000)).toEqual({ action: 'stop', reason: { cause: 'stalled', detail: 'no output for 180 s (stale_task_threshold 180 s)' } });
  });

  it('names the deadline that passed first when a late timer finds both passed', () => {
    const p = policyOf({ task_timeout: 200 }, { stale_task_threshold: 180 });
    expect(p.decide(view(streaming, T0), T0 + 900_000)).toMatchObject({ reason: { cause: 'stalled' } });
    expect(p.decide(view(streaming, T0 + 150_000), T0 + 900_000)).toMatchObject({ reason: { cause: 'timeout' } });
  });

  it('after the result, only result_grace counts: the run is stopped that long after it', () => {
    const p = policyOf({ task_timeout: 60, result_grace: 10 }, { stale_task_threshold: 5 });
    const seen: RunState = { kind: 'result_seen', since: T0 + 50_000, result: { kind: 'result', ok: true } };
    expect(p.decide(view(seen, T0 + 50_000), T0 + 59_999)).toEqual({ action: 'wait', until: T0 + 60_000 });
    expect(p.decide(view(seen, T0 + 50_000), T0 + 60_000)).toEqual({ action: 'stop', reason: { cause: 'result_linger', detail: 'printed its result and had not exited 10 s later (result_grace 10 s)' } });
  });

  it('has nothing to decide for a run that is stopping or over', () => {
    const p = policyOf({ task_timeout: 1 });
    expect(p.decide(view({ kind: 'stopping', since: T0, reason: { cause: 'timeout', detail: '' }, killAt: T0 + 10_000, killed: false }), T0 + 1e9)).toEqual({ action: 'none' });
    expect(p.decide(view({ kind: 'exited', since: T0, ending: { exit: { code: 0, signal: null }, stop: undefined, result: undefined, killed: false, durationMs: 0 } }), T0 + 1e9)).toEqual({ action: 'none' });
  });
});
