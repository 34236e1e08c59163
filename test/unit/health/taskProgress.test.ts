import { describe, expect, it } from 'vitest';
import { TaskProgressCheck } from '../../../src/health/taskProgress.js';
import { bgConfig, context, target } from '../../helpers/health.js';

const T0 = 1_700_000_000_000;
const cfg = bgConfig({ monitoring: { health_checks: { task_progress: { max_task_duration: 300, stale_task_threshold: 180, idle_cpu_percent: 1 } } } }).monitoring.health_checks.task_progress;
const check = new TaskProgressCheck(cfg, 30_000, 3);
const task = (over = {}) => ({ id: 'STORY_42', startedAt: T0, lastProgressAt: T0, progress: null, message: null, ...over });

describe('task_progress', () => {
  it('passes an agent without a task, and a task that moves', () => {
    expect(check.evaluate(target(T0), context(T0 + 999_000)).status).toBe('healthy');
    const r = check.evaluate(target(T0, { task: task({ lastProgressAt: T0 + 170_000, progress: 0.4 }) }), context(T0 + 180_000, { 4242: { cpu: 20 } }));
    expect(r).toMatchObject({ status: 'healthy', findings: [], summary: 'STORY_42: 3m00s, last progress 10s ago at 40%' });
  });

  it('says a task is stale after stale_task_threshold without progress, in the words an operator reads', () => {
    const now = T0 + 192_000;
    const t = target(T0, { protocol: false, task: task() });
    const r = check.evaluate(t, context(now, { 4242: { state: 'S', cpu: 0 } }));
    expect(r.status).toBe('unhealthy');
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ check: 'task_progress', kind: 'stale_task', severity: 'unhealthy', value: 192, threshold: 180, unit: 's', since: T0, diagnosis: 'io_wait', restart: true });
    expect(r.findings[0]!.message).toBe('qaa: task STORY_42 has made no progress for 3m12s (stale_task_threshold 180s); process state S, CPU 0.0% — looks blocked waiting on I/O');
  });

  it('is not stale one millisecond before the threshold', () => {
    const r = check.evaluate(target(T0, { task: task() }), context(T0 + 180_000, { 4242: { cpu: 0 } }));
    expect(r.status).toBe('healthy');
  });

  it('counts output as activity (the documented rule: no progress message and no output)', () => {
    const r = check.evaluate(target(T0, { task: task(), lastOutputAt: T0 + 100_000 }), context(T0 + 200_000, { 4242: { cpu: 0 } }));
    expect(r.status).toBe('healthy');
  });

  it('distinguishes a livelock (heartbeats, busy CPU) from a blocked event loop (no heartbeats) and a stopped process', () => {
    const now = T0 + 200_000;
    const livelock = check.evaluate(target(T0, { task: task(), lastHeartbeatAt: now - 1000 }), context(now, { 4242: { state: 'R', cpu: 99.5 } }));
    expect(livelock.findings[0]!.diagnosis).toBe('livelock');
    expect(livelock.findings[0]!.message).toContain('heartbeats still arrive — alive but stuck: looks like a livelock or an infinite loop');
    const blocked = check.evaluate(target(T0, { task: task(), lastHeartbeatAt: now - 60_000 }), context(now, { 4242: { state: 'R', cpu: 100 } }));
    expect(blocked.findings[0]!.diagnosis).toBe('blocked_event_loop');
    expect(blocked.findings[0]!.message).toContain('no heartbeats or pongs for 1m00s');
    const stopped = check.evaluate(target(T0, { task: task(), lastHeartbeatAt: now - 60_000 }), context(now, { 4242: { state: 'T', cpu: 0 } }));
    expect(stopped.findings[0]!.diagnosis).toBe('stopped');
    const idle = check.evaluate(target(T0, { task: task(), lastHeartbeatAt: now - 1000 }), context(now, { 4242: { state: 'S', cpu: 0.5 } }));
    expect(idle.findings[0]!.diagnosis).toBe('idle_wait');
  });

  it('flags a task over max_task_duration even while it progresses, and says it is just slow', () => {
    const now = T0 + 301_000;
    const r = check.evaluate(target(T0, { task: task({ lastProgressAt: now - 2000, progress: 0.9 }) }), context(now, { 4242: { cpu: 30 } }));
    expect(r.findings.map((f) => f.kind)).toEqual(['task_overrun']);
    expect(r.findings[0]).toMatchObject({ value: 301, threshold: 300, since: T0 + 300_000, diagnosis: 'slow_task' });
    expect(r.findings[0]!.message).toBe('qaa: task STORY_42 has run for 5m01s (max_task_duration 300s) — still progressing (last 2.0s ago at 90%), just slower than allowed');
  });

  it('uses the agent\'s own task_timeout before max_task_duration', () => {
    const r = check.evaluate(target(T0, { agentConfig: { task_timeout: 60 }, task: task({ lastProgressAt: T0 + 60_000 }) }), context(T0 + 61_000, { 4242: { cpu: 1 } }));
    expect(r.findings[0]!.message).toContain('(task_timeout 60s)');
  });

  it('skips a replica that is not running', () => {
    expect(check.evaluate(target(T0, { state: 'backoff', pid: undefined }), context(T0)).status).toBe('skipped');
    expect(check.evaluate(target(T0, { state: 'stopping', task: task() }), context(T0 + 999_000)).status).toBe('skipped');
  });

  it('says what is done about a stale or overrunning per_task run: the supervisor ends it and fails the attempt', () => {
    const run = (state: string) => target(T0, { id: 'deva_ts-1', agent: 'deva_ts', mode: 'per_task', protocol: false, lastHeartbeatAt: undefined, state, agentConfig: { stop_timeout: 10, max_concurrent: 2 }, task: task() });
    const stale = check.evaluate(run('running'), context(T0 + 181_000, { 4242: { state: 'S', cpu: 0 } }));
    expect(stale.findings[0]!.message).toBe('deva_ts: task STORY_42 has produced no output for 3m01s (stale_task_threshold 180s); process state S, CPU 0.0% — looks blocked waiting on I/O; the supervisor ends this run (SIGTERM to its process group, SIGKILL after stop_timeout 10s) and fails the attempt as stalled: the task is retried or dead-lettered');
    const overrun = check.evaluate(run('stopping'), context(T0 + 301_000, { 4242: { state: 'S', cpu: 0 } }));
    expect(overrun.status).toBe('unhealthy'); // a run being ended still holds its task
    expect(overrun.findings.map((f) => f.kind)).toEqual(['stale_task', 'task_overrun']);
    expect(overrun.findings[1]!.message).toBe('deva_ts: task STORY_42 has run for 5m01s (max_task_duration 300s); the supervisor is ending this run (SIGTERM to its process group, SIGKILL after stop_timeout 10s) and fails the attempt as timeout: the task is retried or dead-lettered');
  });
});
