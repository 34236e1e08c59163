import { describe, expect, it } from 'vitest';
import { ProgressBatch, type ProgressEntry } from '../../../src/queue/ProgressBatch.js';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { useTempDb } from '../../helpers/tempDb.js';
import type { Db } from '../../../src/store/Database.js';

describe('ProgressBatch (progress reports of one event-loop turn, written together)', () => {
  it('merges the reports of one task: a missing field keeps the earlier one, the time is the newest', () => {
    const writes: Map<string, ProgressEntry>[] = [];
    const later: (() => void)[] = [];
    const b = new ProgressBatch((e) => writes.push(new Map(e)), (fn) => later.push(fn));
    b.add('T1', 0.1, 'reading', 1);
    b.add('T1', 0.2, undefined, 2);
    b.add('T2', undefined, 'starting', 3);
    b.add('T1', undefined, 'writing', 4);
    expect(later).toHaveLength(1); // one flush scheduled for the turn
    expect(writes).toHaveLength(0);
    later[0]!();
    expect(writes).toEqual([new Map([['T1', { fraction: 0.2, message: 'writing', at: 4 }], ['T2', { fraction: null, message: 'starting', at: 3 }]])]);
    b.add('T1', 0.3, undefined, 5);
    expect(later).toHaveLength(2); // the next turn schedules again
  });

  it('drops the entries of a write that throws and rethrows its error', () => {
    const b = new ProgressBatch(() => { throw new Error('disk full'); }, () => {});
    b.add('T1', 0.5, undefined, 1);
    expect(() => b.flush()).toThrow('disk full');
    expect(b.size).toBe(0);
  });
});

describe('TaskQueue progress (batched per event-loop turn)', () => {
  const openDb = useTempDb('queue-progress-');
  const queue = () => {
    const { db } = openDb();
    let now = 1_000;
    return { q: new TaskQueue(db, { maxDepth: 10, maxAttempts: 2, historyRetention: 10, now: () => now++ }), db };
  };
  const stored = (d: Db, id: string) => d.prepare('SELECT progress, progress_message, last_activity_at FROM tasks WHERE id = ?').get(id) as { progress: number | null; progress_message: string | null; last_activity_at: number };

  it('writes a turn\'s reports on the next turn, in one transaction, merged per task', async () => {
    const { q, db } = queue();
    const a = q.submit({ role: 'w', title: 'a', correlation_id: 'c' });
    const b = q.submit({ role: 'w', title: 'b', correlation_id: 'c' });
    q.take('w', 'w-0');
    q.take('w', 'w-1');
    q.progress(a.id, 0.25, 'reading');
    q.progress(a.id, 0.5, undefined);
    q.progress(b.id, undefined, 'thinking');
    expect(stored(db, a.id).progress).toBeNull(); // nothing written during this turn
    await new Promise((r) => setImmediate(r));
    expect(stored(db, a.id)).toMatchObject({ progress: 0.5, progress_message: 'reading' });
    expect(stored(db, b.id)).toMatchObject({ progress: null, progress_message: 'thinking' });
  });

  it('a read or a state change in the same turn sees the reports (never a stale row)', () => {
    const { q, db } = queue();
    const a = q.submit({ role: 'w', title: 'a', correlation_id: 'c' });
    q.take('w', 'w-0');
    q.progress(a.id, 0.4, 'half');
    expect(q.get(a.id)).toMatchObject({ progress: 0.4, progress_message: 'half' });
    q.progress(a.id, 0.6, 'more');
    expect(q.fail(a.id, 'boom', true)).toBe('retry');
    expect(stored(db, a.id)).toMatchObject({ progress: 0.6, progress_message: 'more' });
    q.take('w', 'w-0');
    q.progress(a.id, 0.9, 'nearly');
    expect(q.complete(a.id, { ok: true })).toMatchObject({ status: 'completed', progress: 1, progress_message: 'nearly' });
  });

  it('a report for a task that is no longer in progress changes nothing', async () => {
    const { q, db } = queue();
    const a = q.submit({ role: 'w', title: 'a', correlation_id: 'c' });
    q.take('w', 'w-0');
    q.complete(a.id, 'done');
    q.progress(a.id, 0.1, 'late');
    await new Promise((r) => setImmediate(r));
    expect(stored(db, a.id)).toMatchObject({ progress: 1, progress_message: null });
  });
});
