import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { openDatabase, type Db } from '../../../src/store/Database.js';

let dir: string | undefined;
let db: Db | undefined;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = undefined;
  dir = undefined;
});

function queue(): TaskQueue {
  dir = mkdtempSync(path.join(tmpdir(), 'queue-'));
  db = openDatabase(path.join(dir, 'q.db'));
  return new TaskQueue(db, { maxDepth: 100, maxAttempts: 2, historyRetention: 100 });
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
