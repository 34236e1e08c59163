import { describe, expect, it } from 'vitest';
import { TaskStateError, UnknownTaskError } from '../../../src/queue/Task.js';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { useTempDb } from '../../helpers/tempDb.js';

const openDb = useTempDb('queue-priority-');

function queue(now = { t: 1_000 }): TaskQueue {
  return new TaskQueue(openDb().db, { maxDepth: 100, maxAttempts: 2, historyRetention: 100, now: () => now.t });
}

describe('TaskQueue.reprioritise (background priority)', () => {
  it('makes a younger pending task run before an older one, and keeps its age among its new peers', () => {
    const clock = { t: 1_000 };
    const q = queue(clock);
    for (const id of ['OLD', 'MID', 'NEW']) {
      q.submit({ id, role: 'qaa', title: id, priority: 5, correlation_id: id });
      clock.t += 10;
    }
    expect(q.reprioritise('NEW', 9)).toMatchObject({ previous: 5, task: { id: 'NEW', priority: 9, status: 'pending', updated_at: 1_030 } });
    expect(q.reprioritise('MID', 9).previous).toBe(5);
    // both now 9: MID is older, so it runs first; then NEW; OLD stays last at 5
    expect(['MID', 'NEW', 'OLD'].map(() => q.take('qaa', 'qaa-0')?.id)).toEqual(['MID', 'NEW', 'OLD']);
  });

  it('refuses a priority outside 1-10, an unknown task and a task that is not pending, changing nothing', () => {
    const q = queue();
    q.submit({ id: 'T', role: 'qaa', title: 'T', priority: 4, correlation_id: 'c' });
    for (const bad of [0, 11, 2.5, Number.NaN]) expect(() => q.reprioritise('T', bad)).toThrow(RangeError);
    expect(() => q.reprioritise('NOPE', 5)).toThrow(UnknownTaskError);
    q.take('qaa', 'qaa-0');
    const err = (() => { try { q.reprioritise('T', 8); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(TaskStateError);
    expect((err as Error).message).toBe('Task T is in_progress: only pending tasks can be re-prioritised.');
    expect(q.get('T')?.priority).toBe(4);
  });
});
