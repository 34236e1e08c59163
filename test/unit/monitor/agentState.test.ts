import { describe, expect, it } from 'vitest';
import { clockTime, describeState, describeTask, exitSummary, shortDuration } from '../../../src/cli/monitor/agentState.js';
import { agent, NOW } from './fixtures.js';

describe('the STATUS column', () => {
  it('says "restarting in 4s" for a replica in backoff whose restart is 3.2 s away (rounded up)', () => {
    const a = agent({ agent: 'qaa', state: 'backoff', restart_at: new Date(NOW + 3200).toISOString() });
    expect(describeState(a, undefined, NOW)).toEqual({ text: 'restarting in 4s', tone: 'warn' });
  });

  it('counts a long backoff down in minutes and says "restarting now" when it is due', () => {
    expect(describeState(agent({ agent: 'x', state: 'backoff', restart_at: new Date(NOW + 125_000).toISOString() }), undefined, NOW).text).toBe('restarting in 2m05s');
    expect(describeState(agent({ agent: 'x', state: 'backoff', restart_at: new Date(NOW - 500).toISOString() }), undefined, NOW).text).toBe('restarting now');
  });

  it('says "circuit open until 10:42:07" in local time, in red', () => {
    const a = agent({ agent: 'deva_ts', state: 'circuit_open', restart_at: new Date(2026, 2, 14, 10, 42, 7).toISOString() });
    expect(describeState(a, undefined, NOW)).toEqual({ text: 'circuit open until 10:42:07', tone: 'bad' });
  });

  it('tells busy from running, and shows per_task concurrency', () => {
    expect(describeState(agent({ agent: 'saa' }), undefined, NOW).text).toBe('running');
    expect(describeState(agent({ agent: 'saa', task: { id: 'T1', progress: null, message: null, running_seconds: 3 } }), undefined, NOW).text).toBe('busy');
    expect(describeState(agent({ agent: 'deva_ts', mode: 'per_task', concurrency: { running: 2, max: 3, tasks: ['A', 'B'] } }), undefined, NOW).text).toBe('running 2/3');
    expect(describeState(agent({ agent: 'deva_ts', mode: 'per_task', state: 'idle' }), undefined, NOW).text).toBe('idle');
  });

  it('says unhealthy (red) for a running process the health checks judge unhealthy, and colours degraded yellow', () => {
    const a = agent({ agent: 'qaa' });
    expect(describeState(a, { verdict: 'unhealthy', findings: [] }, NOW)).toEqual({ text: 'unhealthy', tone: 'bad' });
    expect(describeState(a, { verdict: 'degraded', findings: [] }, NOW)).toEqual({ text: 'running', tone: 'warn' });
    expect(describeState(a, { verdict: 'healthy', findings: [] }, NOW)).toEqual({ text: 'running', tone: 'ok' });
  });

  it('shows failed in red and stopped dimmed', () => {
    expect(describeState(agent({ agent: 'x', state: 'failed' }), undefined, NOW)).toEqual({ text: 'failed', tone: 'bad' });
    expect(describeState(agent({ agent: 'x', state: 'stopped' }), undefined, NOW)).toEqual({ text: 'stopped', tone: 'dim' });
  });
});

describe('task and exit cells', () => {
  it('shows the task id, progress and message', () => {
    expect(describeTask(agent({ agent: 'saa', task: { id: 'STORY_42', progress: 0.5, message: 'halfway', running_seconds: 9 } }))).toBe('STORY_42 50% halfway');
    expect(describeTask(agent({ agent: 'saa' }))).toBe('-');
  });

  it('says how long the task has gone without progress', () => {
    expect(describeTask(agent({ agent: 'saa', task: { id: 'STORY_42', progress: 0.5, message: 'halfway', running_seconds: 90, last_progress_seconds: 47 } }))).toBe('STORY_42 50% halfway (last progress 47s ago)');
  });

  it('does not repeat the signal when the exit reason already names it', () => {
    expect(exitSummary({ at: '', code: null, signal: 'SIGKILL', reason: 'crash: killed by SIGKILL' })).toBe('crash: killed by SIGKILL');
    expect(exitSummary({ at: '', code: 3, signal: null, reason: 'crash' })).toBe('crash: exit code 3');
  });

  it('formats clock times and short durations', () => {
    expect(clockTime(new Date(2026, 0, 1, 9, 5, 7).getTime())).toBe('09:05:07');
    expect(shortDuration(59)).toBe('59s');
    expect(shortDuration(3723)).toBe('1h02m');
  });
});
