import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateTaskError, QueueFullError, TaskStateError, UnknownTaskError } from '../../src/queue/Task.js';
import type { QueueOptions } from '../../src/queue/TaskQueue.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';
import { pgBackend, sqliteBackend, type AsyncQueue, type Backend } from '../helpers/queueBackends.js';

/**
 * One contract, two stores: every case here runs against the SQLite TaskQueue (the
 * embedded default, through a thin async wrapper) and the PostgreSQL PgTaskQueue on a real
 * PostgreSQL 15, with the same assertions. The PostgreSQL-only cases (several supervisors,
 * leases, fencing) are in queue-pg-fleet.test.ts.
 */
let server: RealPostgres;
beforeAll(async () => { server = await startPostgres(); });
afterAll(async () => { await server?.stop(); });

const backends: Backend[] = [sqliteBackend(), pgBackend(() => server.url)];
afterAll(async () => { for (const b of backends) await b.close(); });

const usage = { num_turns: 4, total_cost_usd: 0.25, usage: { input_tokens: 10, output_tokens: 20 } };

describe.each(backends)('the queue contract on $name', (backend) => {
  const clock = { t: 1_000_000 };
  beforeEach(async () => {
    clock.t = 1_000_000;
    await backend.reset();
  });
  const open = (o: Partial<QueueOptions> = {}): Promise<AsyncQueue> => backend.open({ now: () => clock.t, ...o });
  const sub = (q: AsyncQueue, role: string, title: string, priority?: number) => q.submit({ role, title, correlation_id: 'c', ...(priority ? { priority } : {}) });

  it('takes the highest priority first and, within a priority, the oldest (FIFO even within one millisecond)', async () => {
    const q = await open();
    for (const [title, p] of [['a', 5], ['b', 9], ['c', 5], ['d', 1], ['e', 9], ['f', 5]] as const) await sub(q, 'w', title, p);
    await sub(q, 'other', 'not mine', 10);
    const order: string[] = [];
    for (let t = await q.take('w', 'w-0'); t; t = await q.take('w', 'w-0')) order.push(t.title);
    expect(order).toEqual(['b', 'e', 'a', 'c', 'f', 'd']);
    expect(await q.hasPending('w')).toBe(false);
    expect(await q.hasPending('other')).toBe(true);
  });

  it('records each attempt with its number, agent, replica, times, cause, whether it counted, and its LLM usage', async () => {
    const q = await open();
    const t = await sub(q, 'deva', 'story');
    expect(await q.take('deva', 'deva-1', { agent: 'deva', replica: '1' })).toMatchObject({ status: 'in_progress', attempts: 1, attempt: 1, assigned_to: 'deva-1' });
    clock.t += 500;
    expect(await q.fail(t.id, 'exit code 1', true, usage, 'agent_failed')).toBe('retry');
    clock.t += 10;
    await q.take('deva', 'deva-0', { agent: 'deva', replica: '0' });
    clock.t += 700;
    expect(await q.complete(t.id, { pr: 42 }, usage, 'all good')).toMatchObject({ status: 'completed', result: { pr: 42 }, llm: usage, progress: 1, finished_at: 1_001_210 });
    const h = await q.withHistory((await q.get(t.id))!);
    expect(h).toMatchObject({ attempts: 2, attempt: 2, retries: [] });
    // PostgreSQL also says which supervisor ran each attempt (its lease holder); SQLite is always this one.
    if (backend.name === 'postgres') expect(h.attempt_history.map((a) => a.supervisor)).toEqual(Array(2).fill((q as unknown as { supervisorId: string }).supervisorId));
    else expect(h.attempt_history.every((a) => !('supervisor' in a))).toBe(true);
    expect(h.attempt_history.map(({ supervisor: _s, ...a }) => a)).toEqual([
      { n: 1, agent: 'deva', replica: '1', started_at: 1_000_000, ended_at: 1_000_500, cause: 'agent_failed', detail: 'exit code 1', counted: true, llm: usage },
      { n: 2, agent: 'deva', replica: '0', started_at: 1_000_510, ended_at: 1_001_210, cause: 'completed', detail: 'all good', counted: true, llm: usage },
    ]);
    expect(await q.lastAttempt(t.id)).toMatchObject({ n: 2, cause: 'completed' });
  });

  it('attempts given back (stop, restart, lost supervisor) do not use up max_attempts; counted causes do', async () => {
    const q = await open({ maxAttempts: 2 });
    const t = await sub(q, 'w', 'slow');
    for (const cause of ['supervisor_stopped', 'operator_restart', 'supervisor_lost'] as const) {
      await q.take('w', 'w-0');
      expect(await q.fail(t.id, 'stopped', true, undefined, cause)).toBe('retry');
      expect(await q.get(t.id)).toMatchObject({ status: 'pending', attempts: 0, not_before: null, error: `${cause}: stopped` });
    }
    await q.take('w', 'w-0');
    expect(await q.release(t.id, 'rate_limited', '429')).toBe(true);
    await q.take('w', 'w-0');
    expect(await q.fail(t.id, 'boom', true, undefined, 'crashed')).toBe('retry');
    await q.take('w', 'w-0');
    expect(await q.fail(t.id, 'boom again', true, undefined, 'timeout')).toBe('dead_lettered');
    const h = await q.withHistory((await q.get(t.id))!);
    expect(h).toMatchObject({ status: 'failed', attempts: 2, attempt: 6, error: 'boom again (gave up after 2 attempts)' });
    expect(h.attempt_history.map((a) => [a.n, a.cause, a.counted])).toEqual([
      [1, 'supervisor_stopped', false], [2, 'operator_restart', false], [3, 'supervisor_lost', false], [4, 'rate_limited', false], [5, 'crashed', true], [6, 'timeout', true],
    ]);
  });

  it('backoff: a failed task waits for its not-before time, without holding back fresh tasks of its role', async () => {
    const q = await open({ retryBackoff: { baseDelayMs: 2000, multiplier: 2, maxDelayMs: 60_000, jitter: 0 } });
    const t = await sub(q, 'w', 'flaky');
    await q.take('w', 'w-0');
    expect(await q.fail(t.id, 'boom', true)).toBe('retry');
    expect(await q.get(t.id)).toMatchObject({ status: 'pending', not_before: 1_002_000, assigned_to: null });
    expect(await q.nextDueAt()).toBe(1_002_000);
    clock.t = 1_001_999;
    expect(await q.hasPending('w')).toBe(false);
    expect(await q.take('w', 'w-0')).toBeUndefined();
    const fresh = await sub(q, 'w', 'fresh', 1);
    expect((await q.take('w', 'w-1'))?.id).toBe(fresh.id);
    clock.t = 1_002_000;
    expect(await q.nextDueAt()).toBeUndefined();
    expect(await q.take('w', 'w-0')).toMatchObject({ id: t.id, attempts: 2, not_before: null });
    expect(await q.fail(t.id, 'boom', true)).toBe('retry');
    expect((await q.get(t.id))!.not_before).toBe(1_002_000 + 4000); // the second wait doubles
  });

  it('dead-letters after max_attempts, and at once when the failure is not retryable; the error is kept', async () => {
    const q = await open({ maxAttempts: 2 });
    const t = await sub(q, 'w', 'doomed');
    await q.take('w', 'w-0');
    expect(await q.fail(t.id, 'e1', true)).toBe('retry');
    await q.take('w', 'w-0');
    expect(await q.fail(t.id, 'e2', true, usage)).toBe('dead_lettered');
    expect(await q.get(t.id)).toMatchObject({ status: 'failed', error: 'e2 (gave up after 2 attempts)', llm: usage, finished_at: clock.t });
    const u = await sub(q, 'w', 'bad input');
    await q.take('w', 'w-0');
    expect(await q.fail(u.id, 'invalid prompt', false)).toBe('dead_lettered');
    expect(await q.get(u.id)).toMatchObject({ status: 'failed', error: 'invalid prompt', attempts: 1 });
    expect(await q.fail(u.id, 'again', true)).toBeUndefined();
    expect((await q.countsByStatus())).toEqual({ pending: 0, in_progress: 0, completed: 0, failed: 2, cancelled: 0 });
  });

  it('cancel: a pending task, a running one (its attempt ends as cancelled, not counted); not a finished one', async () => {
    const q = await open();
    const a = await sub(q, 'w', 'a');
    const b = await sub(q, 'w', 'b');
    expect(await q.take('w', 'w-0')).toMatchObject({ id: a.id });
    expect(await q.cancel(b.id)).toBe(true);
    expect(await q.cancel(a.id)).toBe(true);
    expect(await q.get(a.id)).toMatchObject({ status: 'cancelled', attempts: 0, attempt: 1, finished_at: clock.t });
    expect((await q.lastAttempt(a.id))).toMatchObject({ cause: 'cancelled', detail: 'cancelled by the operator', counted: false });
    expect(await q.complete(a.id, 'late')).toBeUndefined(); // the agent's late answer changes nothing
    expect(await q.get(a.id)).toMatchObject({ status: 'cancelled', result: null });
    expect(await q.cancel(a.id)).toBe(false);
    expect(await q.cancel('no-such-task')).toBe(false);
    expect(await q.take('w', 'w-0')).toBeUndefined();
  });

  it('retry: a failed or cancelled task goes back to pending with attempts reset and the retry recorded; others are refused by type', async () => {
    const q = await open({ maxAttempts: 1 });
    await expect(q.retry('nope')).rejects.toBeInstanceOf(UnknownTaskError);
    const t = await sub(q, 'w', 'x');
    await expect(q.retry(t.id)).rejects.toThrow(new TaskStateError(t.id, 'pending', 'retry', ['failed', 'cancelled']));
    await q.take('w', 'w-0');
    await expect(q.retry(t.id)).rejects.toThrow(/is in_progress: only failed or cancelled tasks can be retried/);
    await q.fail(t.id, 'e1', true);
    clock.t += 100;
    expect(await q.retry(t.id, 'the fix is deployed')).toMatchObject({ status: 'pending', attempts: 0, attempt: 1, error: null, finished_at: null, started_at: null });
    expect((await q.take('w', 'w-0'))?.attempt).toBe(2);
    await q.complete(t.id, 'ok');
    await expect(q.retry(t.id)).rejects.toThrow(/is completed/);
    const h = await q.withHistory((await q.get(t.id))!);
    expect(h.retries).toEqual([{ at: 1_000_100, cause: 'operator_retry', detail: 'the fix is deployed', previous_status: 'failed', attempts_before: 1, after_attempt: 1 }]);
    expect(h.attempt_history.map((a) => a.cause)).toEqual(['agent_failed', 'completed']);
  });

  it('retention: keeps the newest history_retention finished tasks; their attempts and retries go with them, pending ones stay', async () => {
    const q = await open({ historyRetention: 1 });
    const ids: string[] = [];
    for (const title of ['old', 'new']) {
      const t = await sub(q, 'w', title);
      ids.push(t.id);
      clock.t += 10;
      await q.take('w', 'w-0');
      await q.fail(t.id, 'x', false);
      await q.retry(t.id);
      await q.take('w', 'w-0');
      await q.complete(t.id, 'ok');
    }
    const waiting = await sub(q, 'w', 'waiting');
    expect(await q.pruneHistory()).toBe(1);
    expect(await q.get(ids[0]!)).toBeUndefined();
    expect(await q.get(ids[1]!)).toMatchObject({ status: 'completed' });
    expect(await q.get(waiting.id)).toMatchObject({ status: 'pending' });
    expect([await q.rowCount('tasks'), await q.rowCount('task_attempts'), await q.rowCount('task_retries')]).toEqual([2, 2, 1]);
    expect(await q.pruneHistory()).toBe(0);
  });

  it('refuses a submit past max_depth and a duplicate id, with typed errors, storing nothing', async () => {
    const q = await open({ maxDepth: 2 });
    await q.submit({ id: 'STORY_1', role: 'w', title: 'one', correlation_id: 'c' });
    await expect(q.submit({ id: 'STORY_1', role: 'w', title: 'again', correlation_id: 'c' })).rejects.toBeInstanceOf(DuplicateTaskError);
    await sub(q, 'w', 'two');
    const full = await q.submit({ role: 'w', title: 'three', correlation_id: 'c' }).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(QueueFullError);
    expect((full as Error).message).toMatch(/^The task queue is full \(2 pending, max_depth 2\)/);
    expect(await q.rowCount('tasks')).toBe(2);
  });

  it('stores the submitted fields as given, and lists, filters and counts the same way', async () => {
    const q = await open();
    const t = await q.submit({ id: 'S1', role: 'deva', title: 'T', prompt: 'do it', payload: { files: ['a.ts'], n: 1 }, priority: 8, correlation_id: 'trace1', traceparent: '00-abc-def-01', max_turns: 30, max_cost_usd: 1.5 });
    expect(t).toEqual({
      id: 'S1', role: 'deva', title: 'T', prompt: 'do it', payload: { files: ['a.ts'], n: 1 }, priority: 8, status: 'pending', attempts: 0, attempt: 0, not_before: null,
      created_at: 1_000_000, updated_at: 1_000_000, started_at: null, finished_at: null, assigned_to: null, correlation_id: 'trace1', traceparent: '00-abc-def-01',
      progress: null, progress_message: null, last_activity_at: null, result: null, error: null, llm: null, max_turns: 30, max_cost_usd: 1.5,
    });
    expect(await q.get('S1')).toEqual(t);
    clock.t += 1;
    await sub(q, 'qaa', 'low', 2);
    clock.t += 1;
    await sub(q, 'qaa', 'mid', 5);
    clock.t += 1;
    await q.take('qaa', 'qaa-0'); // lists are newest-updated first
    expect((await q.list()).map((x) => x.title)).toEqual(['mid', 'low', 'T']);
    expect((await q.list({ role: 'qaa', status: 'pending' })).map((x) => x.title)).toEqual(['low']);
    expect((await q.list({ limit: 1 })).map((x) => x.title)).toEqual(['mid']);
    const s = await q.stats();
    expect(s.totalPending).toBe(2);
    expect(Object.fromEntries([...s.depth].map(([r, b]) => [r, Object.fromEntries(b)]))).toEqual({ deva: { high: 1 }, qaa: { low: 1 } });
    expect(Object.fromEntries(s.inProgress)).toEqual({ qaa: 1 });
    expect(Object.fromEntries(s.oldestPending)).toEqual({ deva: 1_000_000, qaa: 1_000_001 });
    const histories = await q.withHistories(await q.list());
    expect(histories.map((h) => h.attempt_history.length)).toEqual([1, 0, 0]);
  });
});
