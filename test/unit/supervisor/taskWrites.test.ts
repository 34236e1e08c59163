import { describe, expect, it } from 'vitest';
import { TaskWrites } from '../../../src/supervisor/TaskWrites.js';
import type { Logger } from '../../../src/telemetry/logger.js';

/** Log lines by level (the logger is not what is tested here). */
function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_fields: unknown, msg: string) => { lines.push({ level, msg }); };
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger };
}
const down = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const transient = (err: unknown) => (err as { code?: string }).code === 'ECONNREFUSED';
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TaskWrites: each task\'s writes in order, outcomes held through an outage', () => {
  it('runs one task\'s writes in the order they were made, even when an earlier one is slower; other tasks do not wait', async () => {
    const w = new TaskWrites({ ordered: true, log: recordingLog().log });
    const done: string[] = [];
    const slowProgress = w.then('t1', async () => { await tick(50); done.push('t1 progress'); });
    const complete = w.then('t1', async () => { done.push('t1 complete'); });
    const other = w.then('t2', async () => { done.push('t2 complete'); });
    await Promise.all([slowProgress, complete, other]);
    expect(done).toEqual(['t2 complete', 't1 progress', 't1 complete']);
  });

  it('a failed write is its caller\'s; the next write of the task still runs', async () => {
    const w = new TaskWrites({ ordered: true, log: recordingLog().log });
    await expect(w.then('t1', () => Promise.reject(new Error('bad row')))).rejects.toThrow('bad row');
    await expect(w.then('t1', async () => 'next')).resolves.toBe('next');
  });

  it('holds an outcome whose write fails with a transient error and writes it once the store answers; a later write of the task waits behind it', async () => {
    const { log, lines } = recordingLog();
    const w = new TaskWrites({ ordered: true, transient, log, initialDelayMs: 5, maxDelayMs: 20 });
    let tries = 0;
    const order: string[] = [];
    const outcome = w.outcome('t1', 'record that task t1 completed', async () => {
      if (++tries < 4) throw down();
      order.push('complete');
      return 'completed';
    });
    const after = w.then('t1', async () => { order.push('after'); });
    await tick(1);
    expect(w.held).toBe(1);
    await expect(outcome).resolves.toBe('completed');
    await after;
    expect(tries).toBe(4);
    expect(order).toEqual(['complete', 'after']);
    expect(w.held).toBe(0);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']); // held once, written once: not a line per try
  });

  it('does not hold a non-transient failure, nor more than maxHeld outcomes (the one over is lost, said at ERROR)', async () => {
    const { log, lines } = recordingLog();
    const w = new TaskWrites({ ordered: true, transient, log, maxHeld: 1, initialDelayMs: 5, maxDelayMs: 10 });
    await expect(w.outcome('t0', 'x', () => Promise.reject(new Error('bad row')))).rejects.toThrow('bad row');
    let up = false;
    const held = w.outcome('t1', 'record t1', async () => { if (!up) throw down(); return 1; });
    await tick(1);
    await expect(w.outcome('t2', 'record t2', () => Promise.reject(down()))).rejects.toThrow('ECONNREFUSED');
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/^could not record t2: .* 1 outcomes already wait in memory \(the most held\); this one is lost/);
    up = true;
    await expect(held).resolves.toBe(1);
  });

  it('close() waits for the writes in flight, then gives up on held outcomes (ERROR with their count)', async () => {
    const { log, lines } = recordingLog();
    const w = new TaskWrites({ ordered: true, transient, log, initialDelayMs: 5, maxDelayMs: 10 });
    let wrote = false;
    void w.then('t1', async () => { await tick(30); wrote = true; });
    const never = w.outcome('t2', 'record t2', () => Promise.reject(down()));
    await w.close(200);
    expect(wrote).toBe(true);
    await expect(never).rejects.toBeDefined();
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/^stopping with 1 task outcomes not written/);
  });

  it('SQLite (unordered, nothing transient): a write runs in the call itself', () => {
    const w = new TaskWrites({ ordered: false, log: recordingLog().log });
    let ran = false;
    void w.then('t1', async () => { ran = true; });
    expect(ran).toBe(true);
  });
});
