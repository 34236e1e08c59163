/**
 * Task outcomes (completed, failed, re-queued) whose write the disk refused, kept
 * in memory until it takes writes again: one per task, the latest, so there are
 * never more than tasks in progress. Each write is a conditional statement
 * (`… WHERE status = 'in_progress'`), so running it late is safe: a task changed
 * since (cancelled, say) is left alone.
 */
export class DeferredWrites {
  private readonly writes = new Map<string, () => unknown>();

  get size(): number {
    return this.writes.size;
  }

  /** Keeps `write` for `taskId`, replacing one kept before. */
  set(taskId: string, write: () => unknown): void {
    this.writes.delete(taskId);
    this.writes.set(taskId, write);
  }

  /**
   * Runs the kept writes, oldest first. The first that throws stays kept, with
   * those after it, and its error is rethrown.
   * @returns how many went through
   */
  flush(): number {
    let n = 0;
    for (const [taskId, write] of this.writes) {
      write();
      this.writes.delete(taskId);
      n++;
    }
    return n;
  }
}
