import type pg from 'pg';
import { CheckpointTooLargeError } from '../CheckpointStore.js';
import type { Checkpoints } from '../Checkpoints.js';
import { inTx } from './inTx.js';

/**
 * Agent checkpoints in the fleet's PostgreSQL, with `CheckpointStore`'s semantics: keyed by
 * replica slot or by task (`task:<id>`), sequence numbers from 1 per slot, the newest
 * `keep` kept, each write one transaction. An agent restarted on another host reads the
 * checkpoint its previous host wrote. Writes to one slot from several supervisors are
 * serialised by a transaction-level advisory lock on the slot, so sequence numbers never
 * collide.
 */
export class PgCheckpointStore implements Checkpoints {
  constructor(private readonly pool: pg.Pool, private readonly maxBytes: number, private readonly keep: number, private readonly now: () => number = Date.now) {}

  /**
   * Stores a checkpoint. Returns its sequence number.
   * @throws CheckpointTooLargeError over the size limit (nothing stored).
   */
  async put(slot: string, state: unknown): Promise<number> {
    const json = JSON.stringify(state ?? null);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.maxBytes) throw new CheckpointTooLargeError(bytes, this.maxBytes);
    return inTx(this.pool, async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('checkpoint:' || $1))", [slot]);
      const { rows: [r] } = await c.query<{ seq: number }>(`INSERT INTO checkpoints (slot, seq, state, created_at)
        SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3 FROM checkpoints WHERE slot = $1 RETURNING seq`, [slot, json, this.now()]);
      const seq = (r as { seq: number }).seq;
      await c.query('DELETE FROM checkpoints WHERE slot = $1 AND seq <= $2', [slot, seq - this.keep]);
      return seq;
    });
  }

  async latest(slot: string): Promise<{ state: unknown; seq: number; created_at: number } | undefined> {
    const { rows: [r] } = await this.pool.query<{ state: string; seq: number; created_at: number }>('SELECT state, seq, created_at FROM checkpoints WHERE slot = $1 ORDER BY seq DESC LIMIT 1', [slot]);
    return r ? { state: JSON.parse(r.state) as unknown, seq: r.seq, created_at: r.created_at } : undefined;
  }

  async history(slot: string): Promise<{ seq: number; state: unknown; created_at: number }[]> {
    const { rows } = await this.pool.query<{ seq: number; state: string; created_at: number }>('SELECT seq, state, created_at FROM checkpoints WHERE slot = $1 ORDER BY seq DESC', [slot]);
    return rows.map((r) => ({ ...r, state: JSON.parse(r.state) as unknown }));
  }

  /** Forgets every checkpoint of `slot`. */
  async drop(slot: string): Promise<void> {
    await this.pool.query('DELETE FROM checkpoints WHERE slot = $1', [slot]);
  }

  /** Forgets the task checkpoints of tasks no longer in the queue (pruned from its history). */
  async pruneTaskCheckpoints(): Promise<number> {
    const { rowCount } = await this.pool.query("DELETE FROM checkpoints WHERE slot LIKE 'task:%' AND NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.id = substr(checkpoints.slot, 6))");
    return rowCount ?? 0;
  }
}
