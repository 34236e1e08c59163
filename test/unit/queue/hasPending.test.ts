import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { useTempDb } from '../../helpers/tempDb.js';

const openDb = useTempDb('queue-');

function queue(): TaskQueue {
  return new TaskQueue(openDb().db, { maxDepth: 100, maxAttempts: 2, historyRetention: 100 });
}

describe('TaskQueue.hasPending (the dispatcher asks it once per role before leasing)', () => {
  it('follows the pending tasks of one role through submit, take, retry and cancel', () => {
    const q = queue();
    expect(q.hasPending('qaa')).toBe(false);
    const t = q.submit({ role: 'qaa', title: 'a', correlation_id: 'c1' });
    expect(q.hasPending('qaa')).toBe(true);
    expect(q.hasPending('saa')).toBe(false);
    expect(q.take('qaa', 'qaa-0')?.id).toBe(t.id);
    expect(q.hasPending('qaa')).toBe(false);
    expect(q.fail(t.id, 'agent died', true)).toBe('retry');
    expect(q.hasPending('qaa')).toBe(true);
    expect(q.cancel(t.id)).toBe(true);
    expect(q.hasPending('qaa')).toBe(false);
  });
});
