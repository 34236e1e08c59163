import path from 'node:path';
import type { Db } from './Database.js';
import { DiskFullError } from './DiskFullError.js';

export class CheckpointTooLargeError extends Error {
  readonly code = 'ERR_CHECKPOINT_TOO_LARGE';
  constructor(readonly bytes: number, readonly max: number) {
    super(`checkpoint is ${bytes} bytes, over protocol.max_checkpoint_bytes (${max})`);
    this.name = 'CheckpointTooLargeError';
  }
}

/** The checkpoint key of a task (per_task runs: the session a retry resumes). */
export const taskCheckpointKey = (taskId: string): string => `task:${taskId}`;

/**
 * Durable agent checkpoints, keyed by replica slot (`qaa-0`), so a restarted
 * replica gets its state back in `welcome`, or by task (`task:<id>`, see
 * {@link taskCheckpointKey}), so a per_task run of a retried task resumes its
 * session. Each write is one transaction (atomic, durable on return); the newest
 * `history` are kept.
 */
export class CheckpointStore {
  private readonly stmts;
  /** @param onDiskFull told of each checkpoint the disk refused (`put` throws it too). */
  constructor(private readonly db: Db, private readonly maxBytes: number, private readonly keep: number, private readonly now: () => number = Date.now, private readonly onDiskFull?: (err: DiskFullError) => void) {
    this.stmts = {
      last: db.prepare('SELECT state, seq, created_at FROM checkpoints WHERE slot = ? ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO checkpoints (slot, seq, state, created_at) VALUES (?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM checkpoints WHERE slot = ? AND seq <= ?'),
      list: db.prepare('SELECT seq, state, created_at FROM checkpoints WHERE slot = ? ORDER BY seq DESC'),
      drop: db.prepare('DELETE FROM checkpoints WHERE slot = ?'),
      orphanTasks: db.prepare("DELETE FROM checkpoints WHERE slot LIKE 'task:%' AND substr(slot, 6) NOT IN (SELECT id FROM tasks)"),
    };
    this.save = db.transaction((slot: string, json: string) => {
      const last = this.stmts.last.get(slot) as { seq: number } | undefined;
      const seq = (last?.seq ?? 0) + 1;
      this.stmts.insert.run(slot, seq, json, this.now());
      this.stmts.prune.run(slot, seq - this.keep);
      return seq;
    });
  }

  private readonly save: (slot: string, json: string) => number;

  /**
   * Stores a checkpoint. Returns the sequence number.
   * @throws CheckpointTooLargeError over the size limit.
   * @throws DiskFullError when the disk refuses the write (the previous checkpoint stays the latest).
   */
  put(slot: string, state: unknown): number {
    const json = JSON.stringify(state ?? null);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.maxBytes) throw new CheckpointTooLargeError(bytes, this.maxBytes);
    try {
      return this.save(slot, json);
    } catch (err) {
      const e = DiskFullError.from(err, path.dirname(this.db.name), `store the checkpoint of ${slot} (${bytes} bytes)`);
      if (!e) throw err;
      this.onDiskFull?.(e);
      throw e;
    }
  }

  latest(slot: string): { state: unknown; seq: number; created_at: number } | undefined {
    const r = this.stmts.last.get(slot) as { state: string; seq: number; created_at: number } | undefined;
    return r ? { state: JSON.parse(r.state), seq: r.seq, created_at: r.created_at } : undefined;
  }

  history(slot: string): { seq: number; state: unknown; created_at: number }[] {
    return (this.stmts.list.all(slot) as { seq: number; state: string; created_at: number }[]).map((r) => ({ ...r, state: JSON.parse(r.state) }));
  }

  /** Forgets every checkpoint of `slot`. */
  drop(slot: string): void {
    this.stmts.drop.run(slot);
  }

  /** Forgets the task checkpoints of tasks no longer in the queue (pruned from its history). */
  pruneTaskCheckpoints(): number {
    return this.stmts.orphanTasks.run().changes;
  }
}
