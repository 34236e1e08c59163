import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '../../../src/queue/Task.js';
import { createClaudeStreamJsonAdapter } from '../../../src/supervisor/adapters/claudeStreamJson.js';
import { PerTaskRun } from '../../../src/supervisor/PerTaskRun.js';
import type { RunEnding, RunStateKind } from '../../../src/supervisor/PerTaskRunState.js';
import { RunPolicy, type RunLimits } from '../../../src/supervisor/RunPolicy.js';
import { UnspawnedProcess } from '../../../src/supervisor/spawnProcess.js';
import { FakeProcess } from '../../helpers/FakeProcess.js';

const task = { id: 'STORY_7', role: 'dev', title: 'story', prompt: 'do it', attempts: 1, traceparent: null } as Task;
const INIT = JSON.stringify({ type: 'system', subtype: 'init', session_id: 'sess-1', cwd: '/w', model: 'm' });
const TURN = JSON.stringify({ type: 'assistant', message: { id: 'msg_1', content: [{ type: 'text', text: 'working' }] } });
const RESULT = JSON.stringify({ type: 'result', subtype: 'success', is_error: false, num_turns: 1, total_cost_usd: 0.25, result: 'done' });
const STOP_MS = 10_000;

function setup(limits: Partial<RunLimits> = {}, opts: { exitOn?: NodeJS.Signals | undefined } = { exitOn: 'SIGTERM' }) {
  const proc = new FakeProcess();
  proc.onSignal = (sig) => {
    if (sig === opts.exitOn || sig === 'SIGKILL') queueMicrotask(() => proc.exit({ code: null, signal: sig }));
  };
  const policy = new RunPolicy({ taskTimeoutMs: 600_000, taskTimeoutKey: 'task_timeout', staleMs: 180_000, resultGraceMs: 10_000, ...limits });
  const run = new PerTaskRun({ task, agent: 'claude', slot: '1', spec: { argv: ['claude'], env: {}, maxLineBytes: 1024 }, policy, stopTimeoutMs: STOP_MS, adapter: createClaudeStreamJsonAdapter(), createProcess: () => proc });
  const states: RunStateKind[] = [];
  const endings: RunEnding[] = [];
  const killed: string[] = [];
  run.on('state', (s) => states.push(s.kind));
  run.on('exited', (e) => endings.push(e));
  run.on('killed', (r) => killed.push(r.cause));
  run.start();
  return { run, proc, states, endings, killed };
}

describe('PerTaskRun', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_700_000_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('goes spawned → streaming → result_seen → exited, and reports the result and session on the way', async () => {
    const { run, proc, states, endings } = setup();
    const sessions: string[] = [];
    run.on('adapter', (ev) => { if (ev.kind === 'session') sessions.push(ev.sessionId); });
    expect(run.slotId).toBe('claude-1');
    expect(states).toEqual(['spawned']);
    proc.emit('stdout', INIT);
    proc.emit('stdout', TURN);
    await vi.advanceTimersByTimeAsync(2000);
    proc.emit('stdout', RESULT);
    expect(states).toEqual(['spawned', 'streaming', 'result_seen']);
    expect(sessions).toEqual(['sess-1']);
    expect(run.turns).toBe(1);
    proc.exit({ code: 0, signal: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toBe('exited');
    expect(endings).toHaveLength(1);
    expect(endings[0]).toMatchObject({ exit: { code: 0 }, stop: undefined, killed: false, durationMs: 2000, result: { ok: true, total_cost_usd: 0.25, result: 'done' } });
    expect(proc.signals).toEqual([]);
  });

  it('kills a run at task_timeout (SIGTERM to the group, SIGCONT so a stopped one can act) and says why', async () => {
    const { run, proc, states, endings } = setup({ taskTimeoutMs: 600_000, staleMs: undefined });
    const stopping: unknown[] = [];
    run.on('state', (s) => { if (s.kind === 'stopping') stopping.push(s); });
    proc.emit('stdout', INIT);
    await vi.advanceTimersByTimeAsync(599_999);
    expect(proc.signals).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(proc.signals).toEqual(['SIGTERM', 'SIGCONT']);
    expect(proc.sent).toEqual([{ type: 'shutdown', deadline_ms: STOP_MS, reason: 'timed out after 600 s (task_timeout)' }]);
    expect(stopping).toEqual([{ kind: 'stopping', since: Date.now(), reason: { cause: 'timeout', detail: 'timed out after 600 s (task_timeout)' }, killAt: Date.now() + STOP_MS, killed: false }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(['spawned', 'streaming', 'stopping', 'exited']);
    expect(endings[0]).toMatchObject({ stop: { cause: 'timeout', detail: 'timed out after 600 s (task_timeout)' }, killed: false, exit: { signal: 'SIGTERM' } });
  });

  it('escalates to SIGKILL when the group has not exited stop_timeout after SIGTERM', async () => {
    const { proc, endings, killed, run } = setup({ taskTimeoutMs: 1000 }, { exitOn: undefined });
    await vi.advanceTimersByTimeAsync(1000);
    expect(proc.signals).toEqual(['SIGTERM', 'SIGCONT']);
    await vi.advanceTimersByTimeAsync(STOP_MS - 1);
    expect(proc.signals).not.toContain('SIGKILL');
    expect(run.state.kind).toBe('stopping');
    await vi.advanceTimersByTimeAsync(1);
    expect(proc.signals).toEqual(['SIGTERM', 'SIGCONT', 'SIGKILL']);
    expect(killed).toEqual(['timeout']);
    await vi.advanceTimersByTimeAsync(0);
    expect(endings).toEqual([expect.objectContaining({ killed: true, stop: expect.objectContaining({ cause: 'timeout' }), exit: { code: null, signal: 'SIGKILL' } })]);
  });

  it('kills a run that printed nothing for stale_task_threshold; any line resets the clock', async () => {
    const { proc, endings } = setup({ taskTimeoutMs: undefined, staleMs: 180_000 });
    await vi.advanceTimersByTimeAsync(100_000);
    proc.emit('stderr', 'still thinking');
    await vi.advanceTimersByTimeAsync(179_999);
    expect(proc.signals).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(proc.signals).toEqual(['SIGTERM', 'SIGCONT']);
    await vi.advanceTimersByTimeAsync(0);
    expect(endings[0]?.stop).toEqual({ cause: 'stalled', detail: 'no output for 180 s (stale_task_threshold 180 s)' });
  });

  it('kills a run that lingers result_grace after its result, keeping the result for the task', async () => {
    const { proc, endings, states } = setup({ taskTimeoutMs: 600_000, staleMs: 5000, resultGraceMs: 10_000 });
    proc.emit('stdout', INIT);
    proc.emit('stdout', RESULT);
    await vi.advanceTimersByTimeAsync(9999);
    expect(proc.signals).toEqual([]); // the 5 s stale threshold no longer applies after the result
    await vi.advanceTimersByTimeAsync(1);
    expect(proc.signals).toEqual(['SIGTERM', 'SIGCONT']);
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(['spawned', 'streaming', 'result_seen', 'stopping', 'exited']);
    expect(endings[0]).toMatchObject({ stop: { cause: 'result_linger' }, result: { ok: true, result: 'done' } });
  });

  it('keeps the first stop reason, and resolves every stop with the one ending', async () => {
    const { run, proc, endings } = setup({}, { exitOn: undefined });
    const first = run.stop({ cause: 'operator_restart', detail: 'restarted by the operator' });
    const second = run.stop({ cause: 'cancelled', detail: 'cancelled' });
    expect(proc.signals).toEqual(['SIGTERM', 'SIGCONT']);
    proc.exit({ code: 143, signal: null });
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(a.stop?.cause).toBe('operator_restart');
    expect(await run.stop({ cause: 'timeout', detail: 'late' })).toBe(a);
    expect(endings).toHaveLength(1);
  });

  it('arms no timer once exited: a run that ends by itself is never signalled', async () => {
    const { proc } = setup({ taskTimeoutMs: 1000, staleMs: 500 });
    proc.emit('stdout', TURN);
    proc.exit({ code: 1, signal: null });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(proc.signals).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends a run whose process could not be spawned with the spawn error, and never signals it', async () => {
    const policy = new RunPolicy({ taskTimeoutMs: 1000, taskTimeoutKey: 'task_timeout', staleMs: 1000, resultGraceMs: 1000 });
    const err = Object.assign(new Error('spawn E2BIG'), { code: 'E2BIG' });
    const run = new PerTaskRun({ task, agent: 'claude', slot: '0', spec: { argv: ['claude'], env: {}, maxLineBytes: 1024 }, policy, stopTimeoutMs: STOP_MS, adapter: undefined, createProcess: () => new UnspawnedProcess(err) });
    const endings: RunEnding[] = [];
    run.on('exited', (e) => endings.push(e));
    run.start();
    expect(run.proc.pid).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    expect(endings).toEqual([expect.objectContaining({ exit: { code: null, signal: null, spawnError: 'E2BIG: spawn E2BIG' }, stop: undefined })]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
