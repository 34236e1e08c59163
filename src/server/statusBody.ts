import { fleetCounts } from '../supervisor/fleetCounts.js';
import { agentStatuses } from '../supervisor/statusSnapshot.js';
import type { Supervisor } from '../supervisor/Supervisor.js';

/**
 * The body of GET /api/v1/status (what `background status` prints), also pushed
 * to the web dashboard by GET /api/v1/ui/stream: one builder, one source of truth.
 * `queue.by_status` counts every task by status (`failed` are the dead letters).
 */
export async function statusBody(sup: Supervisor, version: string) {
  const [stats, byStatus] = await Promise.all([sup.queue.stats(), sup.queue.countsByStatus()]);
  return {
    supervisor: { pid: process.pid, started_at: new Date(sup.startedAt).toISOString(), version, state_dir: sup.stateDirRoot },
    agents: agentStatuses(sup),
    fleet: fleetCounts(sup),
    queue: {
      pending: stats.totalPending,
      in_progress: [...stats.inProgress.values()].reduce((a, b) => a + b, 0),
      by_role: Object.fromEntries([...stats.depth].map(([role, bands]) => [role, Object.fromEntries(bands)])),
      by_status: byStatus,
      /** `fleet`: the figures count every supervisor's tasks (the queue is on PostgreSQL). */
      scope: sup.queueScope,
    },
  };
}

export type StatusBody = Awaited<ReturnType<typeof statusBody>>;
