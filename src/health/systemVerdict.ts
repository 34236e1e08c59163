import { fleetCounts, isReplicaUp, type FleetCounts } from '../supervisor/fleetCounts.js';
import type { HealthSource } from './Target.js';
import { worst, type Finding, type Verdict } from './types.js';

/** The work a role can take: replicas (or per_task slots) configured, up, healthy and busy. */
export interface RoleCapacity {
  configured: number;
  /** Processes running (service), or slots able to start one (per_task, unless stopping). */
  up: number;
  /** Up and not unhealthy. */
  healthy: number;
  /** Holding a task. */
  busy: number;
}

export interface SystemHealth {
  verdict: Verdict;
  /** Agents (config entries) with at least one process up or able to start one (fleetCounts). */
  agents: FleetCounts['agents'];
  /** Service replicas configured and up (starting or running). */
  replicas: FleetCounts['replicas'];
  /** per_task slots configured (max_concurrent) and busy (a run holds them). */
  slots: FleetCounts['slots'];
  capacity: Record<string, RoleCapacity>;
  findings: Finding[];
}

/**
 * A replica an operator took out on purpose: stopped, or being stopped by `background
 * stop`, a scale-down, a reload or a manual restart. It is not missing capacity (no
 * finding, no alert, no escalation); a crash, an unhealthy or an alert restart is.
 */
function deliberatelyDown(r: HealthSource['replicas'][number]): boolean {
  if (r.state.kind === 'stopped') return true;
  if (r.state.kind !== 'stopping') return false;
  const cause = r.stoppingFor;
  return cause === undefined || cause?.kind === 'manual';
}

/**
 * Counts capacity by role. `verdictOf(id)` is a target's current verdict; an
 * unhealthy replica is up but not healthy capacity.
 */
export function capacityOf(src: HealthSource, verdictOf: (id: string) => Verdict | undefined): { capacity: Record<string, RoleCapacity> } & FleetCounts {
  const capacity: Record<string, RoleCapacity> = {};
  const role = (r: string) => (capacity[r] ??= { configured: 0, up: 0, healthy: 0, busy: 0 });
  for (const r of src.replicas) {
    const c = role(r.role);
    if (deliberatelyDown(r)) continue;
    const up = isReplicaUp(r.state.kind);
    c.configured++;
    if (up) c.up++;
    if (up && verdictOf(r.slot) !== 'unhealthy') c.healthy++;
    if (r.task) c.busy++;
  }
  for (const p of src.perTask) {
    const c = role(p.role);
    if (p.stopping || p.stopped) continue; // being stopped, or stopped by an operator, on purpose: not missing capacity
    const slots = p.config.max_concurrent;
    const unhealthy = [...p.runs.values()].filter((run) => verdictOf(run.slotId) === 'unhealthy').length;
    c.configured += slots;
    c.up += p.stopping ? 0 : slots;
    c.healthy += p.stopping ? 0 : slots - unhealthy;
    c.busy += p.runs.size;
  }
  return { capacity, ...fleetCounts(src) };
}

/**
 * The system verdict:
 * - unhealthy when a role has no healthy capacity, or a system finding is unhealthy
 *   (an outage of a shared dependency);
 * - degraded when replicas are down (reduced capacity), an agent is not healthy, or
 *   a system finding is degraded (a full disk);
 * - healthy otherwise.
 */
export function systemVerdict(
  cap: ReturnType<typeof capacityOf>,
  agentVerdicts: readonly Verdict[],
  extra: readonly Finding[],
  now: number,
): SystemHealth {
  const findings: Finding[] = [...extra];
  for (const [role, c] of Object.entries(cap.capacity)) {
    if (c.configured === 0) continue;
    if (c.healthy === 0) {
      findings.push({
        check: 'system', kind: 'capacity', subject: role, severity: 'unhealthy', value: c.healthy, threshold: 1, unit: 'count', since: now, restart: false,
        message: `system: role ${role} has no healthy capacity (${c.up}/${c.configured} up, ${c.healthy} healthy) — its tasks wait in the queue`,
      });
    } else if (c.up < c.configured) {
      findings.push({
        check: 'system', kind: 'capacity', subject: role, severity: 'degraded', value: c.up, threshold: c.configured, unit: 'count', since: now, restart: false,
        message: `system: role ${role} runs with reduced capacity: ${c.up}/${c.configured} replicas up`,
      });
    }
  }
  let verdict: Verdict = 'healthy';
  for (const f of findings) verdict = worst(verdict, f.severity);
  if (agentVerdicts.some((v) => v !== 'healthy')) verdict = worst(verdict, 'degraded');
  return { verdict, agents: cap.agents, replicas: cap.replicas, slots: cap.slots, capacity: cap.capacity, findings };
}
