import type { AgentConfig } from '../config/schema.js';
import type { PerTaskAgent } from '../supervisor/PerTaskAgent.js';
import type { PerTaskRun } from '../supervisor/PerTaskRun.js';
import type { Replica } from '../supervisor/Replica.js';
import { hasProcess, type LastExit } from '../supervisor/ReplicaState.js';

/** The task a target holds. */
export interface TargetTask {
  id: string;
  /** Epoch ms the task was assigned (service) or its process started (per_task). */
  startedAt: number;
  /** Epoch ms of the last `task.progress` (or adapter progress), or the start. */
  lastProgressAt: number;
  progress: number | null;
  message: string | null;
}

/**
 * What the checks look at: one service replica (`qaa-0`) or one running per_task
 * run (`deva_ts-1`: slot 1 of agent deva_ts). A plain snapshot, so checks are testable without
 * a supervisor; `ping` is the only live handle.
 */
export interface Target {
  /** The supervisor's slot id: `qaa-0`, or `deva_ts-1` for the per_task run in slot 1. */
  readonly id: string;
  readonly agent: string;
  readonly role: string;
  readonly mode: 'service' | 'per_task';
  readonly config: AgentConfig;
  /** Replica lifecycle state (`running`, `backoff`, …); `running` or `stopping` (being killed) for a per_task run. */
  readonly state: string;
  readonly pid: number | undefined;
  /** Changes at every (re)start: per-process state (leak series, miss counts) resets with it. */
  readonly incarnation: string | undefined;
  readonly startedAt: number | undefined;
  /** Said `hello`: pings and heartbeats apply. */
  readonly protocol: boolean;
  readonly lastHeartbeatAt: number | undefined;
  readonly lastOutputAt: number | undefined;
  /** Heap after the last major GC, from the Node SDK's heartbeats. */
  readonly heapAfterGcBytes: number | undefined;
  readonly task: TargetTask | undefined;
  /** Why the last process ended (backoff, circuit_open, failed). */
  readonly lastExit: LastExit | undefined;
  /** Epoch ms of the next start (backoff) or breaker trial (circuit_open). */
  readonly restartAt: number | undefined;
  ping?(timeoutMs: number): Promise<number>;
  /** The last heartbeat now (live, unlike `lastHeartbeatAt`): for a check that waited on a ping. */
  heartbeatAt?(): number | undefined;
}

/** What the health layer reads from the supervisor (a real Supervisor, or a fake in tests). */
export interface HealthSource {
  readonly replicas: readonly Replica[];
  readonly perTask: readonly PerTaskAgent[];
}

/** A short name for messages: the agent name when it has one process (its replica 0, unless scaled), else the slot. */
export const labelOf = (t: Pick<Target, 'id' | 'agent' | 'mode' | 'config'>): string =>
  t.mode === 'per_task' || (t.config.replicas <= 1 && t.id === `${t.agent}-0`) ? t.agent : t.id;

export function replicaTarget(r: Replica): Target {
  const s = r.state;
  const proc = hasProcess(s) ? s.proc : undefined;
  const task = r.task;
  return {
    id: r.slot, agent: r.config.name, role: r.role, mode: 'service', config: r.config, state: s.kind,
    pid: proc?.pid, incarnation: proc ? `${proc.pid}@${proc.startedAt}` : undefined, startedAt: proc?.startedAt,
    protocol: r.speaksProtocol, lastHeartbeatAt: r.lastHeartbeatAt, lastOutputAt: r.lastOutputAt, heapAfterGcBytes: r.heapAfterGcBytes,
    task: task ? { id: task.id, startedAt: task.assignedAt, lastProgressAt: task.lastProgressAt, progress: task.progress, message: task.message } : undefined,
    lastExit: s.kind === 'backoff' || s.kind === 'circuit_open' || s.kind === 'failed' ? s.lastExit : undefined,
    restartAt: s.kind === 'backoff' ? s.restartAt : s.kind === 'circuit_open' ? s.retryAt : undefined,
    ping: (ms) => r.ping(ms),
    heartbeatAt: () => r.lastHeartbeatAt,
  };
}

function runTarget(p: PerTaskAgent, run: PerTaskRun): Target {
  return {
    id: run.slotId, agent: p.config.name, role: p.role, mode: 'per_task', config: p.config, state: run.state.kind === 'stopping' ? 'stopping' : 'running',
    pid: run.proc.pid, incarnation: `${run.proc.pid}@${run.startedAt}`, startedAt: run.startedAt, protocol: false,
    lastHeartbeatAt: undefined, lastOutputAt: run.lastOutputAt, heapAfterGcBytes: undefined,
    // Output (stream events, adapter progress) is the progress of a per_task process.
    task: { id: run.task.id, startedAt: run.startedAt, lastProgressAt: run.lastOutputAt, progress: null, message: run.lastMessage },
    lastExit: undefined, restartAt: undefined,
  };
}

/** Every service replica and every running per_task process, as targets. */
export function targetsOf(src: HealthSource): Target[] {
  const out = src.replicas.map(replicaTarget);
  for (const p of src.perTask) for (const run of p.runs.values()) out.push(runTarget(p, run));
  return out;
}

/** The one target `id` (as in {@link targetsOf}), built alone: nothing is allocated for the others. */
export function targetOf(src: HealthSource, id: string): Target | undefined {
  for (const r of src.replicas) if (r.slot === id) return replicaTarget(r);
  for (const p of src.perTask) for (const run of p.runs.values()) if (run.slotId === id) return runTarget(p, run);
  return undefined;
}
