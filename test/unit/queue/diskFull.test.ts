import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { CheckpointStore } from '../../../src/store/CheckpointStore.js';
import { DiskFullError } from '../../../src/store/DiskFullError.js';
import { EventLog } from '../../../src/store/EventLog.js';
import { useTempDb } from '../../helpers/tempDb.js';
import type { Db } from '../../../src/store/Database.js';

// A real SQLITE_FULL: SQLite refuses to grow a database past `max_page_count`
// exactly as it refuses when the disk is full.
const openDb = useTempDb('queue-full-', 'state.db');

function open(): { db: Db; dir: string; fill(): void; free(): void } {
  const { db: d, dir } = openDb();
  return {
    db: d,
    dir,
    fill: () => d.exec(`PRAGMA max_page_count = ${d.prepare('PRAGMA page_count').pluck().get() as number}`),
    free: () => d.exec('PRAGMA max_page_count = 1073741823'),
  };
}

const pad = 'p'.repeat(20_000); // more than a page: every write of it needs new (overflow) pages

describe('TaskQueue on a full disk', () => {
  it('refuses a submit with a DiskFullError that names the state directory, and stores nothing', () => {
    const s = open();
    const refused: DiskFullError[] = [];
    const q = new TaskQueue(s.db, { maxDepth: 100, maxAttempts: 2, historyRetention: 100, onDiskFull: (e) => refused.push(e) });
    q.submit({ id: 'before', role: 'qaa', title: 't', prompt: pad, correlation_id: 'c0' });
    s.fill();
    let err: unknown;
    try {
      for (let i = 0; i < 20; i++) q.submit({ id: `t${i}`, role: 'qaa', title: 't', prompt: pad, correlation_id: `c${i}` });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as DiskFullError).causeCode).toBe('SQLITE_FULL');
    expect((err as DiskFullError).message).toContain(`could not store the task: the disk holding ${s.dir} refused the write (SQLITE_FULL`);
    expect(refused).toEqual([err]);
    const ids = q.list().map((t) => t.id);
    expect(ids).toContain('before');
    expect(ids.length).toBeLessThan(21);
    s.free();
    expect(q.submit({ id: 'after', role: 'qaa', title: 't', prompt: pad, correlation_id: 'c9' }).status).toBe('pending');
  });

  it('keeps a completion the disk refused and writes it once there is room; the task reads as in progress meanwhile', () => {
    const s = open();
    const q = new TaskQueue(s.db, { maxDepth: 100, maxAttempts: 2, historyRetention: 100 });
    const a = q.submit({ id: 'a', role: 'qaa', title: 't', correlation_id: 'c1' });
    const b = q.submit({ id: 'b', role: 'qaa', title: 't', correlation_id: 'c2' });
    q.take('qaa', 'qaa-0');
    q.take('qaa', 'qaa-1');
    s.fill();
    expect(q.complete(a.id, { big: pad })).toBeUndefined();
    expect(q.fail(b.id, `asked to fail ${pad}`, true)).toBe('retry'); // the outcome the deferred write will have
    expect(q.deferredWrites).toBe(2);
    expect(q.get(a.id)?.status).toBe('in_progress');
    expect(q.flushDeferred()).toBe(0); // still full: kept
    expect(q.deferredWrites).toBe(2);
    s.free();
    expect(q.flushDeferred()).toBe(2);
    expect(q.deferredWrites).toBe(0);
    expect(q.get(a.id)).toMatchObject({ status: 'completed', result: { big: pad } });
    expect(q.get(b.id)).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('leaves a task pending when the disk refuses its lease (take throws DiskFullError)', () => {
    const s = open();
    const q = new TaskQueue(s.db, { maxDepth: 100, maxAttempts: 2, historyRetention: 100 });
    q.submit({ id: 't1', role: 'qaa', title: 't', correlation_id: 'c1' });
    q.submit({ id: 't2', role: 'qaa', title: 't', correlation_id: 'c2' });
    expect(q.take('qaa', 'qaa-0')?.id).toBe('t1');
    s.fill();
    // the lease writes the holder's name into the row: this one needs pages the disk has not got
    expect(() => q.take('qaa', `qaa-${pad}`)).toThrow(DiskFullError);
    expect(q.get('t2')?.status).toBe('pending');
    q.progress('t1', 0.5, pad); // progress is skipped, not thrown
    expect(q.get('t1')?.progress_message).toBeNull();
    expect(q.pruneHistory()).toBe(0);
    s.free();
    expect(q.take('qaa', `qaa-${pad}`)?.id).toBe('t2');
  });
});

describe('checkpoints and events on a full disk', () => {
  it('refuses a checkpoint with a DiskFullError and keeps the previous one as the latest', () => {
    const s = open();
    const told: DiskFullError[] = [];
    const cp = new CheckpointStore(s.db, 1024 * 1024, 5, Date.now, (e) => told.push(e));
    cp.put('qaa-0', { n: 1 });
    s.fill();
    expect(() => cp.put('qaa-0', { n: 2, pad })).toThrow(DiskFullError);
    expect(told).toHaveLength(1);
    expect(told[0]?.message).toContain('could not store the checkpoint of qaa-0');
    expect(cp.latest('qaa-0')?.state).toEqual({ n: 1 });
  });

  it('leaves an event out (told, not thrown)', () => {
    const s = open();
    const told: DiskFullError[] = [];
    const events = new EventLog(s.db, 100, Date.now, (e) => told.push(e));
    s.fill();
    for (let i = 0; i < 5; i++) events.record('qaa-0', 'exit', { pad });
    expect(told.length).toBeGreaterThan(0);
    expect(told[0]?.message).toContain('could not record the exit event of qaa-0');
  });
});
