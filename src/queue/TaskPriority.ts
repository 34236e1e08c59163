import type { Db } from '../store/Database.js';
import { TaskStateError, UnknownTaskError, type TaskStatus } from './Task.js';

/** The priorities a task can have: 1 (lowest) to 10 (highest; runs first). */
export const PRIORITY = { min: 1, max: 10 } as const;

/**
 * `background priority` and `POST /api/v1/tasks/:id/priority`: a pending task gets
 * another priority. One immediate transaction reads the task's status and writes the
 * priority, so a task leased meanwhile is refused, never half re-prioritised. The task
 * keeps its age: among the tasks of its new priority the oldest still runs first.
 */
export class TaskPriority {
  private readonly tx;

  constructor(db: Db) {
    const get = db.prepare('SELECT status, priority FROM tasks WHERE id = ?');
    const set = db.prepare("UPDATE tasks SET priority = ?, updated_at = ? WHERE id = ? AND status = 'pending' RETURNING *");
    this.tx = db.transaction((id: string, priority: number, now: number): { row: unknown; previous: number } => {
      const r = get.get(id) as { status: TaskStatus; priority: number } | undefined;
      if (!r) throw new UnknownTaskError(id);
      if (r.status !== 'pending') throw new TaskStateError(id, r.status, 'reprioritise', ['pending']);
      return { row: set.get(priority, now, id), previous: r.priority };
    });
  }

  /**
   * Sets the priority of pending task `id`; returns the row as written and the priority it had.
   * @throws RangeError when `priority` is not a whole number from 1 to 10.
   * @throws UnknownTaskError when there is no such task.
   * @throws TaskStateError when the task is not pending (a running or finished task's priority no longer matters).
   */
  set(id: string, priority: number, now: number): { row: unknown; previous: number } {
    if (!Number.isInteger(priority) || priority < PRIORITY.min || priority > PRIORITY.max) {
      throw new RangeError(`Expected priority to be a whole number from ${PRIORITY.min} to ${PRIORITY.max}, got ${priority}`);
    }
    return this.tx.immediate(id, priority, now);
  }
}
