import { describe, expect, it } from 'vitest';
import { QueueDrain } from '../../../src/controller/QueueDrain.js';

/** A queue of numbers; `handle` works on each item of the batch, then removes the batch. */
function queue(n: number, work: (item: number) => void | Promise<void> = () => undefined) {
  const items = Array.from({ length: n }, (_, i) => i);
  const handled: number[] = [];
  const batches: number[] = [];
  const failures: { err: string; batch: number[]; retryInMs: number | undefined }[] = [];
  return {
    items, handled, batches, failures,
    opts: {
      next: (limit: number) => items.slice(0, limit),
      handle: async (batch: number[]) => {
        for (const item of batch) await work(item);
        items.splice(0, batch.length);
        handled.push(...batch);
        batches.push(batch.length);
      },
      onFailure: (err: unknown, batch: number[], retryInMs: number | undefined) => failures.push({ err: (err as Error).message, batch, retryInMs }),
    },
  };
}

const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end) { /* spin */ } };

describe('QueueDrain', () => {
  it('handles every item in order, in batches, and lets other work in between slices', async () => {
    const q = queue(120, () => busy(1));
    const drain = new QueueDrain({ ...q.opts, batchSize: 10, sliceMs: 5 });
    drain.kick();
    const seenByTimer = await new Promise<number>((r) => setTimeout(() => r(q.handled.length), 0));
    await drain.idle();
    expect(q.handled).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(q.batches).toEqual(Array.from({ length: 12 }, () => 10));
    expect(seenByTimer).toBeLessThan(120); // the timer ran while the drain was still busy
  });

  it('keeps a failed batch queued, reports it with the retry delay, and tries again (doubling the delay)', async () => {
    let fails = 2;
    const q = queue(5, (item) => { if (item === 3 && fails-- > 0) throw new Error('disk I/O error'); });
    const drain = new QueueDrain({ ...q.opts, batchSize: 2, minRetryMs: 10, maxRetryMs: 15 });
    drain.kick();
    await drain.idle();
    expect(q.handled).toEqual([0, 1]);
    expect(q.failures).toEqual([{ err: 'disk I/O error', batch: [2, 3], retryInMs: 10 }]);
    drain.kick(); // a kick while a retry is pending waits for the retry
    for (let i = 0; i < 500 && q.handled.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(q.handled).toEqual([0, 1, 2, 3, 4]);
    expect(q.failures.map((f) => f.retryInMs)).toEqual([10, 15]);
  });

  it('reports a failing queue read, and never rejects, even when the failure handler throws', async () => {
    const seen: number[][] = [];
    const drain = new QueueDrain<number>({ next: () => { throw new Error('database is locked'); }, handle: async () => undefined, onFailure: (_e, batch) => { seen.push(batch); throw new Error('logger broke'); }, minRetryMs: 10_000 });
    drain.kick();
    await expect(drain.idle()).resolves.toBeUndefined();
    expect(seen).toEqual([[]]);
    drain.stop();
  });

  it('stops after the current batch and leaves the rest queued', async () => {
    const q = queue(10);
    const drain = new QueueDrain({ ...q.opts, batchSize: 2, handle: async (batch: number[]) => { await q.opts.handle(batch); if (batch.includes(3)) drain.stop(); } });
    drain.kick();
    await drain.idle();
    expect(q.handled).toEqual([0, 1, 2, 3]);
    expect(q.items).toHaveLength(6);
    drain.kick();
    await drain.idle();
    expect(q.handled).toHaveLength(4);
  });
});
