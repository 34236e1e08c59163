import type { AgentConfig } from '../config/schema.js';
import type { ReplicaStateKind } from './ReplicaState.js';

/** What the counts read of a service replica. */
export interface CountedReplica {
  readonly config: Pick<AgentConfig, 'name'>;
  readonly role: string;
  readonly state: { readonly kind: ReplicaStateKind };
}

/** What the counts read of a per_task agent. */
export interface CountedPerTask {
  readonly config: Pick<AgentConfig, 'name' | 'max_concurrent'>;
  readonly role: string;
  readonly stopping: boolean;
  /** Stopped by an operator (`background stop <agent>`); absent counts as false. */
  readonly stopped?: boolean | undefined;
  readonly runs: { readonly size: number };
}

/**
 * The fleet in the project's vocabulary (docs/operations.md, "Words"), counted
 * once for every surface: `status`, `health`, the monitor's header and /metrics.
 * - agents: config entries; up when a service agent has a replica up, or a
 *   per_task agent can start runs (not stopping, not stopped). `stopped` names those
 *   taken out on purpose (every replica `stopped`, or a per_task agent stopped by
 *   `background stop`): not missing capacity. `down` names the others.
 * - replicas: processes of service agents; up when starting or running (not
 *   in backoff, circuit open, failed, stopping or stopped); `stopped` counts those
 *   in state `stopped` (by an operator, or ended for good by `restart: never`).
 * - slots: places for per_task runs (`max_concurrent` each); busy when a run holds one.
 */
export interface FleetCounts {
  agents: { configured: number; up: number; down: string[]; stopped: string[] };
  replicas: { configured: number; up: number; stopped: number };
  slots: { configured: number; busy: number };
}

/** A replica counts as up when its process is starting or running. */
export const isReplicaUp = (state: ReplicaStateKind): boolean => state === 'starting' || state === 'running';

export function fleetCounts(src: { readonly replicas: readonly CountedReplica[]; readonly perTask: readonly CountedPerTask[] }): FleetCounts {
  const agentUp = new Map<string, boolean>();
  /** Agents with every process stopped on purpose (false once one is not). */
  const agentStopped = new Map<string, boolean>();
  const replicas = { configured: 0, up: 0, stopped: 0 };
  const slots = { configured: 0, busy: 0 };
  for (const r of src.replicas) {
    const up = isReplicaUp(r.state.kind);
    replicas.configured++;
    if (up) replicas.up++;
    if (r.state.kind === 'stopped') replicas.stopped++;
    agentUp.set(r.config.name, (agentUp.get(r.config.name) ?? false) || up);
    agentStopped.set(r.config.name, (agentStopped.get(r.config.name) ?? true) && r.state.kind === 'stopped');
  }
  for (const p of src.perTask) {
    slots.configured += p.config.max_concurrent;
    slots.busy += p.runs.size;
    agentUp.set(p.config.name, !p.stopping && !p.stopped);
    agentStopped.set(p.config.name, p.stopped === true);
  }
  const notUp = [...agentUp].filter(([, up]) => !up).map(([n]) => n);
  const stopped = notUp.filter((n) => agentStopped.get(n));
  const down = notUp.filter((n) => !agentStopped.get(n));
  return { agents: { configured: agentUp.size, up: agentUp.size - notUp.length, down, stopped }, replicas, slots };
}

/** `replicas 4/5, slots 1/2 busy` (no slots part without per_task agents; `replicas 3/5 (2 stopped)` when some are stopped). */
export function fleetDetail(f: FleetCounts): string {
  const parts = [`replicas ${f.replicas.up}/${f.replicas.configured}${f.replicas.stopped ? ` (${f.replicas.stopped} stopped)` : ''}`];
  if (f.slots.configured) parts.push(`slots ${f.slots.busy}/${f.slots.configured} busy`);
  return parts.join(', ');
}

/** `5/5 agents up (replicas 4/5, slots 1/2 busy)`, `4/5 agents up, 1 stopped (…)`: the same sentence in `status`, `health` and the log. */
export const fleetLine = (f: FleetCounts): string =>
  `${f.agents.up}/${f.agents.configured} agents up${f.agents.stopped?.length ? `, ${f.agents.stopped.length} stopped` : ''} (${fleetDetail(f)})`;
