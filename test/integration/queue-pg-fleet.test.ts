import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgTaskNotifier } from '../../src/queue/pg/PgTaskNotifier.js';
import type { PgQueueOptions } from '../../src/queue/pg/PgTaskQueue.js';
import { LeaseLostError } from '../../src/queue/pg/pgRows.js';
import { CheckpointTooLargeError } from '../../src/store/CheckpointStore.js';
import { PgCheckpointStore } from '../../src/store/pg/PgCheckpointStore.js';
import { waitFor } from '../helpers/harness.js';
import { startPostgres, type RealPostgres } from '../helpers/postgres.js';
import { pgBackend } from '../helpers/queueBackends.js';

/**
 * What only a fleet has: several supervisors (here several PgTaskQueue instances, each its
 * own supervisor id and pool user) on one real PostgreSQL 15. Lease times are real (the
 * database's clock); a test that waits for a lease to run out waits for the database to
 * say so, bounded by a generous 30 s, and never sleeps a fixed time.
 */
let server: RealPostgres;
beforeAll(async () => { server = await startPostgres(); });
const backend = pgBackend(() => server.url);
afterAll(async () => {
  await backend.close();
  await server?.stop();
});
beforeEach(() => backend.reset());

const lostReports: LeaseLostError[] = [];
afterEach(() => { lostReports.length = 0; });
const supervisor = (id: string, o: Partial<PgQueueOptions> = {}) => backend.openPg({ supervisorId: id, onLeaseLost: (e) => lostReports.push(e), ...o });
const submit = (q: ReturnType<typeof supervisor>, title: string, role = 'w') => q.submit({ role, title, correlation_id: 'c' });

describe('a fleet of supervisors on one PostgreSQL', () => {
  it('three supervisors racing take() never get the same task, and between them take every one', async () => {
    const [a, b, c] = [supervisor('A', { maxDepth: 1000 }), supervisor('B'), supervisor('C')];
    const n = 120;
    for (let i = 0; i < n; i++) await submit(a, `t${i}`);
    const drain = async (q: typeof a) => {
      const got: string[] = [];
      for (let t = await q.take('w', `${q.supervisorId}-0`); t; t = await q.take('w', `${q.supervisorId}-0`)) got.push(t.id);
      return got;
    };
    const got = await Promise.all([drain(a), drain(b), drain(c)]);
    const all = got.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(n);
    const leases = await a.leases();
    expect(leases).toHaveLength(n);
    expect(new Set(leases.map((l) => l.token)).size).toBe(n); // every take got its own fencing token
    for (const l of leases) expect(l.holder).toBe(['A', 'B', 'C'][got.findIndex((g) => g.includes(l.taskId))]);
    expect(got.filter((g) => g.length > 0).length).toBeGreaterThan(1); // they did race
  });

  it('a lease runs out: another supervisor takes the task over, and that attempt ends as supervisor_lost (not counted)', async () => {
    const a = supervisor('A', { leaseMs: 300 });
    const b = supervisor('B');
    const t = await submit(a, 'story');
    const mine = await a.take('w', 'w-0', { agent: 'w', replica: '0' });
    expect(mine?.lease).toMatchObject({ holder: 'A', attempt: 1 });
    expect(await b.take('w', 'w-1')).toBeUndefined(); // held, and not yet run out
    // A stops renewing (its host is gone); B takes the task once the database says the lease ran out
    const taken = await waitFor('B to take over the expired lease', () => b.take('w', 'w-1', { agent: 'w', replica: '1' }), 30_000, 50);
    expect(taken).toMatchObject({ id: t.id, status: 'in_progress', attempts: 1, attempt: 2, assigned_to: 'w-1' });
    expect(taken.lease.holder).toBe('B');
    expect(taken.lease.token).toBeGreaterThan(mine!.lease.token);
    const h = await b.withHistory((await b.get(t.id))!);
    expect(h.attempt_history.map((x) => [x.n, x.cause, x.counted, x.replica])).toEqual([[1, 'supervisor_lost', false, '0'], [2, null, null, '1']]);
    expect(h.attempt_history[0]!.detail).toMatch(/^the lease of supervisor A \(token \d+\) ran out at .*; taken over by B$/);
    expect((await b.leases()).map((l) => [l.taskId, l.holder, l.expired])).toEqual([[t.id, 'B', false]]);
  });

  it('fencing: the old holder coming back after the takeover cannot complete, fail, release, renew or report progress; the task completes once', async () => {
    const a = supervisor('A', { leaseMs: 300 });
    const b = supervisor('B');
    const t = await submit(a, 'story');
    await a.take('w', 'w-0');
    await waitFor('B to take over', () => b.take('w', 'w-1'), 30_000, 50);
    expect(await a.complete(t.id, 'done by A')).toBeUndefined();
    expect(lostReports).toHaveLength(1);
    expect(lostReports[0]).toBeInstanceOf(LeaseLostError);
    expect(lostReports[0]!.message).toMatch(new RegExp(`^Supervisor A may no longer complete task ${t.id}: its lease \\(token \\d+\\) was lost; the task is in_progress under B at attempt 2\\. The write was refused`));
    // A no longer holds it at all: every later write is refused too, and reported
    expect(await a.fail(t.id, 'boom', true, undefined, 'crashed')).toBeUndefined();
    expect(await a.release(t.id, 'supervisor_stopped', 'stop')).toBe(false);
    expect(await a.renew(t.id)).toBe(false);
    await a.progress(t.id, 0.9, 'A still thinks it runs');
    expect(lostReports.map((e) => e.operation)).toEqual(['complete', 'fail', 'release', 'renew the lease of']);
    expect(await b.get(t.id)).toMatchObject({ status: 'in_progress', progress: null, result: null });
    expect(await b.complete(t.id, 'done by B')).toMatchObject({ status: 'completed', result: 'done by B' });
    const h = await b.withHistory((await b.get(t.id))!);
    expect(h.attempt_history.filter((x) => x.cause === 'completed')).toHaveLength(1);
    expect(h).toMatchObject({ attempts: 1, result: 'done by B' });
  });

  it('a holder whose lease ran out but that nobody took over still completes (nothing was given to anyone else)', async () => {
    const a = supervisor('A', { leaseMs: 200 });
    const t = await submit(a, 'story');
    await a.take('w', 'w-0');
    await waitFor('the lease to run out', async () => (await a.leases())[0]?.expired, 30_000, 50);
    expect(await a.complete(t.id, 'ok')).toMatchObject({ status: 'completed' });
    expect(lostReports).toEqual([]);
  });

  it('a supervisor never takes over its own run-out lease (its run goes on, e.g. after a database outage): it renews it; another one takes it', async () => {
    const a = supervisor('A', { leaseMs: 200 });
    const b = supervisor('B');
    await submit(a, 'story');
    const t = await a.take('w', 'w-0');
    await waitFor('the lease to run out', async () => (await a.leases())[0]?.expired, 30_000, 50);
    expect(await a.take('w', 'w-1')).toBeUndefined();
    expect(await a.renew(t!.id)).toBe(true);
    expect(await b.take('w', 'w-2')).toBeUndefined(); // renewed: nobody's to take
    await waitFor('the lease to run out again', async () => (await a.leases())[0]?.expired, 30_000, 50);
    expect((await b.take('w', 'w-2'))?.id).toBe(t!.id);
  });

  it('renew() extends the lease (on the database clock); renewAll() renews every lease of the supervisor in one statement', async () => {
    const a = supervisor('A', { leaseMs: 60_000 });
    const b = supervisor('B');
    const [t1, t2] = [await submit(a, 'one'), await submit(a, 'two')];
    const l1 = (await a.take('w', 'w-0'))!.lease;
    await a.take('w', 'w-1');
    const before = l1.expiresAt.getTime();
    await waitFor('the database clock to move', async () => (await b['pool'].query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t.getTime() > before - 60_000 + 5, 5000, 5);
    expect(await a.renew(t1.id)).toBe(true);
    expect(a.leaseOf(t1.id)!.expiresAt.getTime()).toBeGreaterThan(before);
    expect(await a.renewAll()).toEqual([]);
    expect(await b.take('w', 'w-2')).toBeUndefined();
    // a cancelled task's lease is gone: renewAll names it and reports it
    await b.cancel(t2.id);
    expect(await a.renewAll()).toEqual([t2.id]);
    expect(lostReports.map((e) => e.taskId)).toEqual([t2.id]);
  });

  it('reclaimExpired() gives every run-out lease back to the queue as supervisor_lost; the old holder is then refused', async () => {
    const a = supervisor('A', { leaseMs: 200 });
    const b = supervisor('B');
    const t = await submit(a, 'story', 'nobody-takes-this-role');
    await a.take('nobody-takes-this-role', 'x-0');
    const released = await waitFor('the lease to be reclaimed', async () => { const r = await b.reclaimExpired(); return r.length ? r : undefined; }, 30_000, 50);
    expect(released).toEqual([t.id]);
    expect(await b.get(t.id)).toMatchObject({ status: 'pending', attempts: 0, attempt: 1, assigned_to: null });
    expect((await b.lastAttempt(t.id))).toMatchObject({ cause: 'supervisor_lost', counted: false });
    expect(await a.complete(t.id, 'late')).toBeUndefined();
    expect(lostReports).toHaveLength(1);
    expect(await b.leases()).toEqual([]);
  });

  it('a supervisor restarted with the same id adopts its leases and can give them back', async () => {
    const before = supervisor('A');
    const t = await submit(before, 'story');
    await before.take('w', 'w-0');
    const after = supervisor('A');
    expect((await after.adoptLeases()).map((x) => x.id)).toEqual([t.id]);
    expect(await after.release(t.id, 'supervisor_stopped', 'the supervisor restarted')).toBe(true);
    expect(await after.get(t.id)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('LISTEN/NOTIFY: a supervisor waiting for a role wakes when another supervisor submits to it', async () => {
    const a = supervisor('A');
    const b = supervisor('B');
    const notifier = new PgTaskNotifier(backend.db().clientConfig);
    await notifier.start();
    try {
      const woke = notifier.wait('deva', 30_000);
      const other = notifier.wait('qaa', 30_000);
      const t0 = Date.now();
      await submit(a, 'story', 'deva');
      expect(await woke).toBe(true);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect((await b.take('deva', 'deva-0'))?.title).toBe('story');
      await submit(a, 'review', 'qaa');
      expect(await other).toBe(true);
    } finally {
      await notifier.close();
    }
    expect(await notifier.wait('deva', 10)).toBe(false); // closed: the caller polls
  });
});

describe('checkpoints in the fleet database', () => {
  it('a checkpoint written by one supervisor is read by another (an agent restarted on another host resumes)', async () => {
    const pool = backend.db().pool;
    const hostA = new PgCheckpointStore(pool, 1024, 2);
    const hostB = new PgCheckpointStore(pool, 1024, 2);
    expect(await hostA.put('qaa-0', { step: 1 })).toBe(1);
    expect(await hostA.put('qaa-0', { step: 2 })).toBe(2);
    expect(await hostA.put('qaa-0', { step: 3, files: ['a'] })).toBe(3);
    expect(await hostB.latest('qaa-0')).toMatchObject({ seq: 3, state: { step: 3, files: ['a'] } });
    expect((await hostB.history('qaa-0')).map((c) => c.seq)).toEqual([3, 2]); // the newest `keep`
    expect(await hostB.latest('qaa-1')).toBeUndefined();
    await expect(hostA.put('qaa-0', { big: 'x'.repeat(2000) })).rejects.toBeInstanceOf(CheckpointTooLargeError);
    await hostB.drop('qaa-0');
    expect(await hostA.latest('qaa-0')).toBeUndefined();
  });

  it('writes to one slot from two supervisors at once get distinct sequence numbers; task checkpoints go with their task', async () => {
    const pool = backend.db().pool;
    const [x, y] = [new PgCheckpointStore(pool, 1024, 100), new PgCheckpointStore(pool, 1024, 100)];
    const seqs = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? x : y).put('shared', { i })));
    expect([...seqs].sort((p, q) => p - q)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const q = supervisor('A');
    const t = await submit(q, 'story');
    await x.put(`task:${t.id}`, { session_id: 's1' });
    await x.put('task:gone', { session_id: 's0' });
    expect(await y.pruneTaskCheckpoints()).toBe(1);
    expect(await y.latest(`task:${t.id}`)).toMatchObject({ state: { session_id: 's1' } });
  });
});

describe('a PostgreSQL restart (last: it restarts the shared server)', () => {
  it('the queue reconnects and nothing committed is lost; the notifier reports the lost connection and listens again after start()', async () => {
    const a = supervisor('A');
    const t = await submit(a, 'before the restart');
    const notifier = new PgTaskNotifier(backend.db().clientConfig);
    await notifier.start();
    const errors: Error[] = [];
    notifier.on('error', (e) => errors.push(e));
    await server.restart();
    await waitFor('the notifier to see its connection go', () => errors.length > 0 && !notifier.listening, 30_000, 50);
    // the pool drops its dead connections and opens new ones
    const taken = await waitFor('a take after the restart', () => a.take('w', 'w-0').catch(() => undefined), 30_000, 100);
    expect(taken).toMatchObject({ id: t.id, attempt: 1 });
    expect(await a.complete(t.id, 'ok')).toMatchObject({ status: 'completed' });
    await notifier.start();
    const woke = notifier.wait('w', 30_000);
    await submit(supervisor('B'), 'after the restart');
    expect(await woke).toBe(true);
    await notifier.close();
  });
});
