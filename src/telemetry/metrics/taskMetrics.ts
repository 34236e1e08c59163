import { Histogram } from 'prom-client';
import type { SupervisorEvents, TaskOutcome } from '../../supervisor/Supervisor.js';
import type { QueueStats } from '../../queue/Task.js';
import { counter, stateGauge, traceExemplar, type AnyRegistry, type Labels, type MetricGroup } from './define.js';
import type { ScrapeSnapshot } from './ScrapeSnapshot.js';
import type { SupervisorView } from './source.js';

const FLEET: Labels = Object.freeze({ scope: 'fleet' });

export const TASK_OUTCOMES: readonly TaskOutcome[] = ['completed', 'failed', 'dead_lettered', 'cancelled'];
export const PRIORITY_BANDS = ['high', 'normal', 'low'] as const;
export type RejectReason = 'queue_full' | 'unknown_role' | 'disk_full';
/** Task run time buckets, seconds: tasks take seconds to an hour and more. */
export const TASK_DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 2700, 3600, 5400, 7200];

/** The Tasks and queue table of docs/metrics.md. */
export class TaskMetrics implements MetricGroup {
  private readonly rejected;
  private readonly seedRoles: () => void;

  /** @param onError called when the queue cannot be read at scrape time (its series are left out of that scrape). */
  constructor(register: AnyRegistry, private readonly sup: SupervisorView, _snapshot: ScrapeSnapshot, onError: (err: Error) => void) {
    const roles = () => sup.roles;
    const tasks = counter(register, 'agentic_tasks_total', 'Finished task attempts by outcome (completed, failed and retried, dead_lettered, cancelled); trace_id exemplars.', ['role', 'outcome'], true);
    const duration = new Histogram({
      name: 'agentic_task_duration_seconds', help: 'Run time of finished task attempts; trace_id exemplars.',
      labelNames: ['role', 'outcome'], buckets: TASK_DURATION_BUCKETS, registers: [register], enableExemplars: true,
    });
    const submitted = counter(register, 'agentic_tasks_submitted_total', 'Accepted task submissions.', ['role']);
    this.rejected = counter(register, 'agentic_tasks_rejected_total', 'Refused task submissions by reason; role is empty for unknown_role.', ['role', 'reason']);

    // Read once per scrape by prepare() (the queue may be a database away), then shown by every family of that scrape.
    let current: QueueStats | undefined;
    this.readStats = async () => {
      try {
        current = await sup.queue?.stats();
      } catch (err) {
        current = undefined;
        onError(err as Error);
      }
    };
    const stats = () => current;
    // PostgreSQL: every supervisor shows the same fleet-wide backlog; `scope="fleet"` says so (aggregate with max, not sum).
    const scope = (): Labels | undefined => (sup.queueScope === 'fleet' ? FLEET : undefined);
    stateGauge(register, 'agentic_tasks_in_progress', 'Tasks assigned and running (fleet-wide, scope="fleet", when the queue is on PostgreSQL).', ['role', 'scope'], (emit) => {
      const s = stats();
      if (s) for (const role of roles()) emit({ role }, s.inProgress.get(role) ?? 0, scope());
    });
    stateGauge(register, 'agentic_queue_depth', 'Pending tasks by priority band: high 8-10, normal 4-7, low 1-3 (fleet-wide, scope="fleet", when the queue is on PostgreSQL).', ['role', 'priority_band', 'scope'], (emit) => {
      const s = stats();
      if (s) for (const role of roles()) for (const band of PRIORITY_BANDS) emit({ role, priority_band: band }, s.depth.get(role)?.get(band) ?? 0, scope());
    });
    stateGauge(register, 'agentic_task_oldest_pending_age_seconds', 'Age of the oldest pending task of the role; 0 when none (fleet-wide, scope="fleet", when the queue is on PostgreSQL).', ['role', 'scope'], (emit) => {
      const s = stats();
      const now = Date.now();
      if (s) for (const role of roles()) { const t = s.oldestPending.get(role); emit({ role }, t === undefined ? 0 : Math.max(0, (now - t) / 1000), scope()); }
    });
    stateGauge(register, 'agentic_tasks_held', 'PostgreSQL only: tasks in progress by the supervisor holding their lease (scope="fleet"; the same on every supervisor, aggregate with max).', ['role', 'supervisor', 'scope'], (emit) => {
      const held = stats()?.heldBy;
      if (held) for (const [role, bySup] of held) for (const [supervisor, n] of bySup) emit({ role, supervisor }, n, FLEET);
    });

    this.seedRoles = () => {
      for (const role of sup.roles) {
        submitted.inc({ role }, 0);
        this.rejected.inc({ role, reason: 'queue_full' }, 0);
        this.rejected.inc({ role, reason: 'disk_full' }, 0);
        // Counters start at 0 so increase() sees the first task; duration series appear with their first observation.
        for (const outcome of TASK_OUTCOMES) tasks.inc({ labels: { role, outcome }, value: 0 });
      }
      this.rejected.inc({ role: '', reason: 'unknown_role' }, 0);
    };

    this.onFinished = (e) => {
      const exemplarLabels = traceExemplar(e.traceId);
      const labels = { role: e.role, outcome: e.outcome };
      const seconds = Number.isFinite(e.durationMs) ? Math.max(0, e.durationMs) / 1000 : 0;
      tasks.inc({ labels, value: 1, exemplarLabels });
      duration.observe({ labels, value: seconds, exemplarLabels });
    };
    this.onSubmitted = (task) => submitted.inc({ role: task.role });
    sup.on('taskFinished', this.onFinished);
    sup.on('taskSubmitted', this.onSubmitted);
  }

  private readonly onFinished: (...e: SupervisorEvents['taskFinished']) => void;
  private readonly onSubmitted: (...e: SupervisorEvents['taskSubmitted']) => void;

  /**
   * Counts a refused submission. For `unknown_role` the role is recorded as empty:
   * the submitted text is unbounded and must not become a label value.
   */
  rejectedSubmission(role: string, reason: RejectReason): void {
    this.rejected.inc({ role: reason === 'unknown_role' || !this.sup.roles.includes(role) ? '' : role, reason });
  }

  seed(): void {
    this.seedRoles();
  }

  /** Reads the queue's figures for this scrape. */
  prepare(): Promise<void> {
    return this.readStats();
  }

  private readonly readStats: () => Promise<void>;

  close(): void {
    this.sup.off('taskFinished', this.onFinished);
    this.sup.off('taskSubmitted', this.onSubmitted);
  }
}
