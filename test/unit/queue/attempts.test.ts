import { describe, expect, it } from 'vitest';
import { TaskStateError, UnknownTaskError } from '../../../src/queue/Task.js';
import { TaskQueue, type QueueOptions } from '../../../src/queue/TaskQueue.js';
import type { Db } from '../../../src/store/Database.js';
import { useTempDb } from '../../helpers/tempDb.js';

const openDb = useTempDb('attempts-');

/** A queue on a real SQLite file with a clock the test moves. */
function queue(opts: Partial<QueueOptions> = {}): { q: TaskQueue; clock: { t: number }; db: Db } {
  const { db } = openDb();
  const clock = { t: 1_000_000 };
  return { q: new TaskQueue(db, { maxDepth: 100, maxAttempts: 3, historyRetention: 100, now: () => clock.t, ...opts }), clock, db };
}

const usage = { num_turns: 4, total_cost_usd: 0.25, usage: { input_tokens: 10, output_tokens: 20 } };

describe('attempt accounting (every attempt recorded, only agent failures count)', () => {
  it('records each attempt with its number, agent, replica, times, cause, whether it counted, and its LLM usage', () => {
    const { q, clock } = queue();
    const t = q.submit({ role: 'deva', title: 'story', correlation_id: 'c' });
    expect(q.take('deva', 'deva', { agent: 'deva' })).toMatchObject({ attempts: 1, attempt: 1 });
    q.setAttemptReplica(t.id, '1');
    clock.t += 500;
    expect(q.fail(t.id, 'exit code 1', true, usage, 'agent_failed')).toBe('retry');
    clock.t += 10;
    q.take('deva', 'deva-0', { agent: 'deva', replica: '0' });
    clock.t += 700;
    q.complete(t.id, 'done', usage, 'all good');
    const h = q.withHistory(q.get(t.id)!);
    expect(h.attempts).toBe(2);
    expect(h.attempt).toBe(2);
    expect(h.attempt_history).toEqual([
      { n: 1, agent: 'deva', replica: '1', started_at: 1_000_000, ended_at: 1_000_500, cause: 'agent_failed', detail: 'exit code 1', counted: true, llm: usage },
      { n: 2, agent: 'deva', replica: '0', started_at: 1_000_510, ended_at: 1_001_210, cause: 'completed', detail: 'all good', counted: true, llm: usage },
    ]);
    expect(h.retries).toEqual([]);
  });

  it('shows a running attempt with no end, cause or count yet', () => {
    const { q } = queue();
    const t = q.submit({ role: 'w', title: 'x', correlation_id: 'c' });
    q.take('w', 'w-0', { agent: 'w', replica: '0' });
    expect(q.withHistory(q.get(t.id)!).attempt_history).toEqual([{ n: 1, agent: 'w', replica: '0', started_at: 1_000_000, ended_at: null, cause: null, detail: null, counted: null, llm: null }]);
  });

  it('three graceful stops do not use up the attempts of a healthy task (max_attempts 3): it still completes', () => {
    const { q } = queue({ maxAttempts: 3 });
    const t = q.submit({ role: 'w', title: 'slow', correlation_id: 'c' });
    for (let i = 0; i < 3; i++) {
      q.take('w', 'w-0');
      expect(q.release(t.id, 'supervisor_stopped', 'the supervisor stopped')).toBe(true);
      expect(q.get(t.id)).toMatchObject({ status: 'pending', attempts: 0, attempt: i + 1, not_before: null });
    }
    q.take('w', 'w-0');
    // one real failure still has two more tries left
    expect(q.fail(t.id, 'boom', true, undefined, 'crashed')).toBe('retry');
    q.take('w', 'w-0');
    q.complete(t.id, 'ok');
    const h = q.withHistory(q.get(t.id)!);
    expect(h).toMatchObject({ status: 'completed', attempts: 2, attempt: 5 });
    expect(h.attempt_history.map((a) => [a.cause, a.counted])).toEqual([
      ['supervisor_stopped', false], ['supervisor_stopped', false], ['supervisor_stopped', false], ['crashed', true], ['completed', true],
    ]);
  });

  it('fail() with a cause that does not count gives the attempt back, due at once (as release does)', () => {
    const { q } = queue({ maxAttempts: 1, retryBackoff: { baseDelayMs: 60_000, jitter: 0 } });
    const t = q.submit({ role: 'w', title: 'x', correlation_id: 'c' });
    q.take('w', 'w-0');
    for (const cause of ['operator_restart', 'supervisor_lost', 'supervisor_stopped'] as const) {
      expect(q.fail(t.id, 'restarted', true, undefined, cause)).toBe('retry');
      expect(q.get(t.id)).toMatchObject({ status: 'pending', attempts: 0, not_before: null });
      expect(q.take('w', 'w-0')?.id).toBe(t.id);
    }
    // each counted cause uses up the only attempt
    for (const cause of ['agent_failed', 'crashed', 'timeout', 'stalled', 'spawn_failed', 'unhealthy'] as const) {
      const u = q.submit({ role: 'u', title: cause, correlation_id: 'c' });
      q.take('u', 'u-0');
      expect(q.fail(u.id, 'x', true, undefined, cause)).toBe('dead_lettered');
      expect(q.withHistory(q.get(u.id)!).attempt_history[0]).toMatchObject({ cause, counted: true });
    }
  });

  it('a cancelled running attempt does not count, and retry() resets the attempts but keeps the history', () => {
    const { q, clock } = queue({ maxAttempts: 2 });
    const t = q.submit({ role: 'w', title: 'x', correlation_id: 'c' });
    q.take('w', 'w-0');
    clock.t += 100;
    expect(q.cancel(t.id)).toBe(true);
    expect(q.get(t.id)).toMatchObject({ status: 'cancelled', attempts: 0, attempt: 1 });
    clock.t += 100;
    const again = q.retry(t.id, 'the fix is deployed');
    expect(again).toMatchObject({ status: 'pending', attempts: 0, attempt: 1, error: null, finished_at: null, result: null });
    q.take('w', 'w-0');
    q.fail(t.id, 'e1', true, undefined, 'agent_failed');
    q.take('w', 'w-0');
    expect(q.fail(t.id, 'e2', true, undefined, 'agent_failed')).toBe('dead_lettered');
    clock.t += 100;
    q.retry(t.id);
    expect(q.get(t.id)).toMatchObject({ status: 'pending', attempts: 0, attempt: 3 });
    const h = q.withHistory(q.get(t.id)!);
    expect(h.attempt_history.map((a) => [a.n, a.cause, a.counted])).toEqual([[1, 'cancelled', false], [2, 'agent_failed', true], [3, 'agent_failed', true]]);
    expect(h.retries).toEqual([
      { at: 1_000_200, cause: 'operator_retry', detail: 'the fix is deployed', previous_status: 'cancelled', attempts_before: 0, after_attempt: 1 },
      { at: 1_000_300, cause: 'operator_retry', detail: 'retried by the operator', previous_status: 'failed', attempts_before: 2, after_attempt: 3 },
    ]);
  });

  it('retry() refuses an unknown id and a task that is pending, in progress or completed, with typed errors', () => {
    const { q } = queue();
    expect(() => q.retry('nope')).toThrow(UnknownTaskError);
    const t = q.submit({ role: 'w', title: 'x', correlation_id: 'c' });
    const err = (() => { try { q.retry(t.id); } catch (e) { return e; } })() as TaskStateError;
    expect(err).toBeInstanceOf(TaskStateError);
    expect(err.code).toBe('ERR_TASK_STATE');
    expect(err.message).toBe(`Task ${t.id} is pending: only failed or cancelled tasks can be retried.`);
    q.take('w', 'w-0');
    expect(() => q.retry(t.id)).toThrow(/is in_progress/);
    q.complete(t.id, 'ok');
    expect(() => q.retry(t.id)).toThrow(/is completed/);
    expect(q.withHistory(q.get(t.id)!).retries).toEqual([]);
  });

  it('lists give each task the same history as a single read (two queries for the whole list)', () => {
    const { q } = queue();
    const ids = [1, 2, 3].map((i) => q.submit({ role: 'w', title: `t${i}`, correlation_id: 'c' }).id);
    q.take('w', 'w-0');
    q.fail(ids[0]!, 'x', false);
    q.retry(ids[0]!, 'again');
    q.take('w', 'w-0');
    q.release(ids[0]!, 'operator_restart', 'restart');
    const list = q.list();
    expect(q.withHistories(list)).toEqual(list.map((t) => q.withHistory(t)));
    expect(q.withHistories(list).find((t) => t.id === ids[0])!.attempt_history).toHaveLength(2);
    expect(q.withHistories([])).toEqual([]);
  });

  it('history goes with its task when finished tasks are pruned', () => {
    const { q, clock, db } = queue({ historyRetention: 1 });
    const ids = [1, 2].map((i) => q.submit({ role: 'w', title: `t${i}`, correlation_id: 'c' }).id);
    for (const id of ids) {
      clock.t += 10;
      q.take('w', 'w-0');
      q.fail(id, 'x', false);
      q.retry(id);
      q.take('w', 'w-0');
      q.complete(id, 'ok');
    }
    expect(q.pruneHistory()).toBe(1);
    const count = (table: string) => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get();
    expect(count('task_attempts')).toBe(2);
    expect(count('task_retries')).toBe(1);
  });
});
