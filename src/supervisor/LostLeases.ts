import type { LeaseLostError } from '../queue/pg/pgRows.js';
import type { Supervisor } from './Supervisor.js';

/** The most task ids remembered (oldest forgotten first). */
const KEEP = 10_000;

/**
 * PostgreSQL: the tasks whose lease this supervisor lost. A lease is lost when it ran out
 * and another supervisor took the task over, or when an operator cancelled the task
 * through another supervisor (the renewal finds it no longer in progress). The task is
 * not this supervisor's any more: its local run is stopped, and nothing the run reports,
 * nor a write of it that was refused, is recorded or counted here.
 */
export class LostLeases {
  private readonly ids = new Set<string>();

  constructor(private readonly sup: Pick<Supervisor, 'replicas' | 'perTask' | 'log' | 'pump'>) {}

  has(taskId: string): boolean {
    return this.ids.has(taskId);
  }

  /** A write or renewal of `err.taskId` was refused: remember it, and stop the run here if there is one. */
  lost(err: LeaseLostError): void {
    const id = err.taskId;
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > KEEP) this.ids.delete(this.ids.values().next().value as string);
    const { sup } = this;
    const replicas = sup.replicas.filter((r) => r.task?.id === id);
    const runs = sup.perTask.filter((p) => p.runs.has(id));
    sup.log.warn({ task_id: id, cause: 'supervisor_lost', err: err.message }, `task ${id}: this supervisor's lease on it is gone (${err.message}): another supervisor took it over, or it was cancelled; ${replicas.length + runs.length ? 'the run here is stopped and its outcome is not recorded' : 'its outcome here is not recorded'}`);
    for (const r of replicas) {
      r.process?.send({ type: 'task.cancel', task_id: id, reason: 'supervisor_lost: another supervisor holds the task now' });
      r.releaseTask();
    }
    for (const p of runs) void p.cancel(id);
    setImmediate(() => sup.pump());
  }
}
