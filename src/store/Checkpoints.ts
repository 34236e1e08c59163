import type { CheckpointStore } from './CheckpointStore.js';

/** One stored checkpoint. */
export interface Checkpoint { state: unknown; seq: number; created_at: number }

/**
 * The checkpoint store's contract, async: the SQLite `CheckpointStore` (wrapped by
 * {@link sqliteCheckpoints}) and `PgCheckpointStore` (the fleet's PostgreSQL) both offer it.
 * Keys are replica slots (`qaa-0`) or tasks (`task:<id>`).
 */
export interface Checkpoints {
  /** @throws CheckpointTooLargeError over `protocol.max_checkpoint_bytes`; DiskFullError (SQLite) or a connection error (PostgreSQL) */
  put(slot: string, state: unknown): Promise<number>;
  latest(slot: string): Promise<Checkpoint | undefined>;
  history(slot: string): Promise<Checkpoint[]>;
  drop(slot: string): Promise<void>;
  pruneTaskCheckpoints(): Promise<number>;
}

/** The SQLite `CheckpointStore` behind {@link Checkpoints}: each call runs at once; its result, or its throw, as a promise. */
export function sqliteCheckpoints(s: CheckpointStore): Checkpoints {
  const p = <T>(fn: () => T): Promise<T> => new Promise((resolve) => { resolve(fn()); });
  return {
    put: (slot, state) => p(() => s.put(slot, state)),
    latest: (slot) => p(() => s.latest(slot)),
    history: (slot) => p(() => s.history(slot)),
    drop: (slot) => p(() => s.drop(slot)),
    pruneTaskCheckpoints: () => p(() => s.pruneTaskCheckpoints()),
  };
}
