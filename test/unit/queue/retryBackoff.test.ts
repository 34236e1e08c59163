import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/ConfigError.js';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { queueOptions } from '../../../src/queue/queueOptions.js';
import { TaskQueue } from '../../../src/queue/TaskQueue.js';
import { openDatabase, type Db } from '../../../src/store/Database.js';

const opened: { dir: string; db: Db }[] = [];
afterEach(() => {
  for (const { dir, db } of opened.splice(0)) {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A queue built from `background.queue` exactly as the supervisor builds it, on a clock the test moves. */
function queueFrom(queueYaml: Record<string, unknown>, random = () => 0.5): { q: TaskQueue; clock: { t: number } } {
  const dir = mkdtempSync(path.join(tmpdir(), 'backoff-'));
  const db = openDatabase(path.join(dir, 'q.db'));
  opened.push({ dir, db });
  const clock = { t: 1_000_000 };
  const cfg = parseConfig({ background: { queue: { max_attempts: 10, ...queueYaml } } });
  return { q: new TaskQueue(db, queueOptions(cfg.background.queue, { now: () => clock.t, random })), clock };
}

/** The waits (ms) before each retry of a task that fails `n` times in a row, each failure the moment it is due. */
function waits(q: TaskQueue, clock: { t: number }, n: number): number[] {
  const t = q.submit({ role: 'w', title: 'flaky', correlation_id: 'c' });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const due = q.get(t.id)!.not_before;
    if (due !== null) clock.t = due;
    expect(q.take('w', 'w-0')?.id).toBe(t.id);
    q.fail(t.id, 'boom', true, undefined, 'agent_failed');
    out.push(q.get(t.id)!.not_before! - clock.t);
  }
  return out;
}

describe('retry backoff (background.queue.retry_backoff)', () => {
  it('holds a failed task back until its not-before time: take, hasPending and nextDueAt honour it', () => {
    const { q, clock } = queueFrom({ retry_backoff: { initial: 2, jitter: 0 } });
    const t = q.submit({ role: 'w', title: 'x', correlation_id: 'c' });
    q.take('w', 'w-0');
    expect(q.fail(t.id, 'boom', true)).toBe('retry');
    expect(q.get(t.id)).toMatchObject({ status: 'pending', not_before: 1_002_000 });
    expect(q.nextDueAt()).toBe(1_002_000);
    clock.t = 1_001_999;
    expect(q.hasPending('w')).toBe(false);
    expect(q.take('w', 'w-0')).toBeUndefined();
    // a fresh task of the same role is not held up behind it
    const fresh = q.submit({ role: 'w', title: 'fresh', correlation_id: 'c', priority: 1 });
    expect(q.take('w', 'w-1')?.id).toBe(fresh.id);
    clock.t = 1_002_000;
    expect(q.nextDueAt()).toBeUndefined();
    expect(q.hasPending('w')).toBe(true);
    expect(q.take('w', 'w-0')).toMatchObject({ id: t.id, attempts: 2, not_before: null });
  });

  it('defaults: 5 s, then 10 s, 20 s … doubling up to 300 s (jitter ±20 %, here drawn at its middle)', () => {
    const { q, clock } = queueFrom({});
    expect(waits(q, clock, 8)).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('initial sets the first wait', () => {
    const { q, clock } = queueFrom({ retry_backoff: { initial: 0.5 } });
    expect(waits(q, clock, 3)).toEqual([500, 1000, 2000]);
  });

  it('multiplier sets the growth', () => {
    const { q, clock } = queueFrom({ retry_backoff: { initial: 1, multiplier: 3 } });
    expect(waits(q, clock, 3)).toEqual([1000, 3000, 9000]);
  });

  it('max caps every wait', () => {
    const { q, clock } = queueFrom({ retry_backoff: { initial: 1, max: 3 } });
    expect(waits(q, clock, 4)).toEqual([1000, 2000, 3000, 3000]);
  });

  it('jitter spreads each wait by up to ± that fraction', () => {
    const low = queueFrom({ retry_backoff: { initial: 1, jitter: 0.5 } }, () => 0);
    expect(waits(low.q, low.clock, 2)).toEqual([500, 1000]);
    const none = queueFrom({ retry_backoff: { initial: 1, jitter: 0 } }, () => 0);
    expect(waits(none.q, none.clock, 2)).toEqual([1000, 2000]);
  });

  it('initial 0 retries at once', () => {
    const { q, clock } = queueFrom({ retry_backoff: { initial: 0 } });
    expect(waits(q, clock, 2)).toEqual([0, 0]);
  });

  it('an attempt given back (a stop, a restart, a lost supervisor) waits for nothing', () => {
    const { q, clock } = queueFrom({ retry_backoff: { initial: 60 } });
    const t = q.submit({ role: 'w', title: 'x', correlation_id: 'c' });
    q.take('w', 'w-0');
    q.fail(t.id, 'boom', true);
    clock.t = q.get(t.id)!.not_before!;
    q.take('w', 'w-0');
    expect(q.release(t.id, 'operator_restart', 'background restart w')).toBe(true);
    expect(q.get(t.id)).toMatchObject({ status: 'pending', not_before: null, attempts: 1 });
    expect(q.hasPending('w')).toBe(true);
    expect(q.take('w', 'w-0')?.id).toBe(t.id);
  });

  it('refuses max below initial and a bad value, naming the key', () => {
    const problems = (raw: unknown) => {
      try {
        parseConfig(raw);
        return [];
      } catch (err) {
        return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
    };
    expect(problems({ background: { queue: { retry_backoff: { initial: 10, max: 5 } } } })).toEqual(['background.queue.retry_backoff.max: expected at least initial (10s), got 5s']);
    expect(problems({ background: { queue: { retry_backoff: { multiplier: 0.5 } } } })[0]).toMatch(/^background\.queue\.retry_backoff\.multiplier: expected a multiplier from 1 to 100, got 0\.5/);
    expect(problems({ background: { queue: { retry_backoff: { initail: 1 } } } })[0]).toMatch(/^background\.queue\.retry_backoff/);
  });
});
