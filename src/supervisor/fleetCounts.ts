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
  readonly runs: { readonly size: number };
}

/**
 * The fleet in the project's vocabulary (docs/operations.md, "Words"), counted
 * once for every surface: `status`, `health`, the monitor's header and /metrics.
 * - agents: config entries; up when a service agent has a replica up, or a
 *   per_task agent can start runs (not stopping). `down` names the others.
 * - replicas: processes of service agents; up when starting or running (not
 *   in backoff, circuit open, failed, stopping or stopped).
 * - slots: places for per_task runs (`max_concurrent` each); busy when a run holds one.
 */
export interface FleetCounts {
  agents: { configured: number; up: number; down: string[] };
  replicas: { configured: number; up: number };
  slots: { configured: number; busy: number };
}

/** A replica counts as up when its process is starting or running. */
export const isReplicaUp = (state: ReplicaStateKind): boolean => state === 'starting' || state === 'running';

export function fleetCounts(src: { readonly replicas: readonly CountedReplica[]; readonly perTask: readonly CountedPerTask[] }): FleetCounts {
  const agentUp = new Map<string, boolean>();
  const replicas = { configured: 0, up: 0 };
  const slots = { configured: 0, busy: 0 };
  for (const r of src.replicas) {
    const up = isReplicaUp(r.state.kind);
    replicas.configured++;
    if (up) replicas.up++;
    agentUp.set(r.config.name, (agentUp.get(r.config.name) ?? false) || up);
  }
  for (const p of src.perTask) {
    slots.configured += p.config.max_concurrent;
    slots.busy += p.runs.size;
    agentUp.set(p.config.name, !p.stopping);
  }
  const down = [...agentUp].filter(([, up]) => !up).map(([n]) => n);
  return { agents: { configured: agentUp.size, up: agentUp.size - down.length, down }, replicas, slots };
}

/** `replicas 4/5, slots 1/2 busy` (no slots part without per_task agents). */
export function fleetDetail(f: FleetCounts): string {
  const parts = [`replicas ${f.replicas.up}/${f.replicas.configured}`];
  if (f.slots.configured) parts.push(`slots ${f.slots.busy}/${f.slots.configured} busy`);
  return parts.join(', ');
}

/** `5/5 agents up (replicas 4/5, slots 1/2 busy)`: the same sentence in `status`, `health` and the log. */
export const fleetLine = (f: FleetCounts): string => `${f.agents.up}/${f.agents.configured} agents up (${fleetDetail(f)})`;
