import type { DetectedFinding } from './FindingLedger.js';
import type { HealthLogger } from './logFindings.js';
import type { Target } from './Target.js';

/**
 * Turns an unhealthy finding that warrants it (`restart: true`) into one restart
 * request per process, for running service replicas only: a replica that is
 * already down belongs to the restart policy, and a per_task process cannot be
 * restarted. The request goes through the supervisor, so the backoff and the
 * breaker apply to it.
 */
export class UnhealthyRestarter {
  /** Incarnations already asked to restart. */
  private readonly requested = new Set<string>();

  constructor(private readonly restart: (target: Target, finding: DetectedFinding) => Promise<unknown>, private readonly log: HealthLogger | undefined) {}

  consider(t: Target, findings: readonly DetectedFinding[]): void {
    const f = findings.find((x) => x.severity === 'unhealthy' && x.restart);
    if (!f || t.mode !== 'service' || t.state !== 'running' || !t.incarnation || this.requested.has(t.incarnation)) return;
    this.requested.add(t.incarnation);
    this.log?.warn({ agent: t.agent, role: t.role, replica: t.id, health_check: f.check, finding: f.kind }, `restarting ${t.id} because it is unhealthy: ${f.message}`);
    this.restart(t, f).catch((err: Error) => this.log?.error({ replica: t.id, err: err.message }, `could not restart ${t.id}: ${err.message}`));
  }

  /** Forgets processes that no longer exist. */
  prune(targets: readonly Target[]): void {
    const live = new Set(targets.map((t) => t.incarnation));
    for (const i of this.requested) if (!live.has(i)) this.requested.delete(i);
  }
}
