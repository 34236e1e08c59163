import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { FixedDelayRestartPolicy } from '../../../src/recovery/RestartPolicy.js';
import { KNOWN_TASK_IDS, Replica } from '../../../src/supervisor/Replica.js';
import { FakeProcess } from '../../helpers/FakeProcess.js';

const agent = parseConfig({ background: { agents: [{ name: 'qaa', command: ['node', 'qaa.mjs'] }] } }).background.agents[0]!;

async function running() {
  const procs: FakeProcess[] = [];
  const r = new Replica(agent, 0, {
    policy: new FixedDelayRestartPolicy(1000),
    spawnSpec: () => ({ argv: agent.command, env: {}, maxLineBytes: 1024 }),
    restoredCheckpoint: () => null,
    settings: () => ({ heartbeat_interval_ms: 5000, max_checkpoint_bytes: 1024 }),
    createProcess: () => {
      const p = new FakeProcess();
      procs.push(p);
      queueMicrotask(() => p.emit('spawn'));
      return p;
    },
  });
  const errors: [string, string][] = [];
  r.on('protocolError', (reason, detail) => errors.push([reason, detail]));
  r.start();
  await vi.advanceTimersByTimeAsync(0);
  const proc = procs[0] as FakeProcess;
  proc.emit('message', { type: 'hello', protocol: 1, pid: 1, capabilities: ['tasks'] });
  const assign = (id: string) => r.assign({ type: 'task.assign', task: { id, role: 'qaa', title: id, priority: 5, attempt: 1 }, correlation_id: `corr-${id}` });
  return { r, proc, errors, assign };
}

describe('Replica: reports that name the wrong task (docs/protocol.md, questions 1 and 8)', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('task.started echoing task.assign\'s correlation_id, or leaving it out, is fine; another one is a correlation_mismatch protocol error', async () => {
    const { proc, errors, assign } = await running();
    assign('T1');
    proc.emit('message', { type: 'task.started', task_id: 'T1', correlation_id: 'corr-T1' });
    proc.emit('message', { type: 'task.started', task_id: 'T1' });
    expect(errors).toEqual([]);
    proc.emit('message', { type: 'task.started', task_id: 'T1', correlation_id: 'mine-123' });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toBe('correlation_mismatch');
    expect(errors[0]?.[1]).toContain('corr-T1');
  });

  it('task.finished for a task never assigned nor announced is an unknown_task protocol error and leaves the current task in place', async () => {
    const { r, proc, errors, assign } = await running();
    assign('T1');
    proc.emit('message', { type: 'task.finished', task_id: 'job-1', duration_ms: 3 });
    expect(errors.map((e) => e[0])).toEqual(['unknown_task']);
    expect(errors[0]?.[1]).toContain('its task is T1');
    expect(r.task?.id).toBe('T1');
  });

  it('a late report on an earlier task of the process, or on work announced with task.started {name}, is not an error', async () => {
    const { r, proc, errors, assign } = await running();
    assign('T1');
    r.releaseTask(); // e.g. cancelled: the agent may still report it
    assign('T2');
    proc.emit('message', { type: 'task.failed', task_id: 'T1', duration_ms: 1, error: { message: 'cancelled', code: 'CANCELLED' }, retryable: false });
    proc.emit('message', { type: 'task.started', task_id: 'warm-1', name: 'warm' });
    proc.emit('message', { type: 'task.finished', task_id: 'warm-1', duration_ms: 2 });
    expect(errors).toEqual([]);
    // the memory is bounded: the oldest id is forgotten
    for (let i = 0; i < KNOWN_TASK_IDS; i++) proc.emit('message', { type: 'task.started', task_id: `w-${i}`, name: 'w' });
    proc.emit('message', { type: 'task.finished', task_id: 'T1', duration_ms: 2 });
    expect(errors.map((e) => e[0])).toEqual(['unknown_task']);
  });
});
