/** One task's newest progress report, merged over the reports of one event-loop turn. */
export interface ProgressEntry {
  /** The newest fraction reported this turn (null: none reported, the stored one stays). */
  fraction: number | null;
  /** The newest message reported this turn (null: none reported, the stored one stays). */
  message: string | null;
  /** When the newest report came (epoch ms). */
  at: number;
}

/**
 * Progress reports gathered during one event-loop turn and written together, in
 * one transaction, on the next turn (`setImmediate`): an agent reporting progress
 * a hundred times a second costs one write per turn, not one per report. Reports of
 * the same task merge: a field missing from a later report keeps the earlier one's,
 * as the stored row would. Progress is not acknowledged to anyone, so the most a
 * crash can lose is the last turn's reports; the queue flushes before every read
 * and every state change, so nothing ever reads a stale row.
 */
export class ProgressBatch {
  private pending = new Map<string, ProgressEntry>();
  private scheduled = false;

  /**
   * @param write writes the entries in one transaction (throws to drop them: a refused write)
   * @param schedule runs the flush on a later turn (default `setImmediate`)
   */
  constructor(
    private readonly write: (entries: ReadonlyMap<string, ProgressEntry>) => void,
    private readonly schedule: (fn: () => void) => void = (fn) => { setImmediate(fn).unref(); },
  ) {}

  /** Reports waiting for the next flush (one per task). */
  get size(): number {
    return this.pending.size;
  }

  add(taskId: string, fraction: number | undefined, message: string | undefined, at: number): void {
    const prev = this.pending.get(taskId);
    this.pending.set(taskId, { fraction: fraction ?? prev?.fraction ?? null, message: message ?? prev?.message ?? null, at });
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Hands over what is waiting now (for a caller that writes it in a transaction of its own). */
  drain(): ReadonlyMap<string, ProgressEntry> {
    const entries = this.pending;
    this.pending = new Map();
    return entries;
  }

  /**
   * Writes what is waiting now (the entries are handed over first: a write that
   * throws drops them, and its error is rethrown).
   * @returns how many tasks' progress was written
   */
  flush(): number {
    if (!this.pending.size) return 0;
    const entries = this.drain();
    this.write(entries);
    return entries.size;
  }
}
