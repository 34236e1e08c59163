import type { DetectedFinding } from './FindingLedger.js';
import type { HealthLogger } from './logFindings.js';
import type { Target } from './Target.js';

/** How a restart is asked for: at once, or after the current task (drain: no new task, then restart). */
export type RestartWhen = 'now' | 'after_task';

/**
 * Turns an unhealthy finding that warrants it (`restart: true`) into one restart
 * request per process, for running service replicas only: a replica that is
 * already down belongs to the restart policy, and a per_task process cannot be
 * restarted. The request goes through the supervisor, so the backoff and the
 * breaker apply to it. A finding with `restartAfterTask` asks for a drain first;
 * if a finding later needs the restart at once (a leak turned urgent), that one
 * more request is made.
 */
export class UnhealthyRestarter {
  /** Incarnations already asked to restart, and how. */
  private readonly requested = new Map<string, RestartWhen>();

  constructor(private readonly restart: (target: Target, finding: DetectedFinding, when: RestartWhen) => Promise<unknown>, private readonly log: HealthLogger | undefined) {}

  consider(t: Target, findings: readonly DetectedFinding[]): void {
    const due = findings.filter((x) => x.severity === 'unhealthy' && x.restart);
    const f = due.find((x) => !x.restartAfterTask) ?? due[0];
    if (!f || t.mode !== 'service' || t.state !== 'running' || !t.incarnation) return;
    const when: RestartWhen = f.restartAfterTask ? 'after_task' : 'now';
    const before = this.requested.get(t.incarnation);
    if (before === 'now' || before === when) return;
    this.requested.set(t.incarnation, when);
    const how = when === 'now' ? 'restarting' : t.task ? `draining ${t.id} (it finishes task ${t.task.id} and takes no new one), then restarting` : 'restarting';
    this.log?.warn({ agent: t.agent, role: t.role, replica: t.id, health_check: f.check, finding: f.kind, restart: when }, `${how === 'restarting' ? `restarting ${t.id}` : how} because it is unhealthy: ${f.message}`);
    this.restart(t, f, when).catch((err: Error) => this.log?.error({ replica: t.id, err: err.message }, `could not restart ${t.id}: ${err.message}`));
  }

  /** Forgets processes that no longer exist. */
  prune(targets: readonly Target[]): void {
    const live = new Set(targets.map((t) => t.incarnation));
    for (const i of this.requested.keys()) if (!live.has(i)) this.requested.delete(i);
  }
}
