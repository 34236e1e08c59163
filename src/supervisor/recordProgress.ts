import type { Supervisor } from './Supervisor.js';

/** A task's progress, after its earlier writes; a progress report that cannot be written is dropped (the next one carries on). */
export function recordProgress(sup: Supervisor, taskId: string, fraction: number | undefined, message: string | undefined): void {
  void sup.writes.then(taskId, async () => { await sup.queue.progress(taskId, fraction, message); }).catch(() => undefined);
}
