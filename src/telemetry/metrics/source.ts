import type { EventEmitter } from 'node:events';
import type { QueueStats } from '../../queue/Task.js';
import type { CircuitBreakerState } from '../../recovery/CircuitBreaker.js';
import type { PerTaskAgent, TaskRun } from '../../supervisor/PerTaskAgent.js';
import type { Replica } from '../../supervisor/Replica.js';
import type { ResourceSample } from '../../supervisor/ResourceSampler.js';
import type { SupervisorEvents } from '../../supervisor/Supervisor.js';

/** What the metrics read of a service replica (a real `Replica`, or a plain object in tests). */
export type ReplicaView = Pick<Replica, 'slot' | 'index' | 'config' | 'role' | 'state' | 'restarts' | 'sdk' | 'lastHeartbeatAt' | 'heapUsedBytes' | 'lastPongRttMs' | 'task'>;

/** What the metrics read of a per_task agent. */
export type PerTaskView = Pick<PerTaskAgent, 'config' | 'role' | 'stopping'> & {
  readonly runs: ReadonlyMap<string, TaskRun>;
  /** Stopped by an operator (`background stop <agent>`); absent counts as false. */
  readonly stopped?: boolean | undefined;
};

/**
 * The part of the Supervisor the metrics layer depends on. `Supervisor` satisfies
 * it; unit tests pass a plain EventEmitter with these fields. Everything is read at
 * scrape time (collect callbacks), except the counters, which come from the events.
 */
export interface SupervisorView extends Pick<EventEmitter<SupervisorEvents>, 'on' | 'off'> {
  readonly replicas: readonly ReplicaView[];
  readonly perTask: readonly PerTaskView[];
  readonly roles: string[];
  readonly sampler: { get(pid: number | undefined): ResourceSample | undefined; readonly lastRoundDurationMs: number };
  /** Undefined until `start()` opened the store. Read once per scrape, before the families render. */
  readonly queue: { stats(): QueueStats | Promise<QueueStats> } | undefined;
  /** `fleet` when the queue is shared by several supervisors (PostgreSQL): its figures then carry `scope="fleet"`. */
  readonly queueScope?: 'local' | 'fleet' | undefined;
  /** The restart policy; its breaker state is read when it can report it (`BackoffRestartPolicy`). */
  readonly policy: object & { circuitState?(agentId: string): CircuitBreakerState };
  /** Roles held back by the API's rate limits (the supervisor's RoleBackoff). */
  readonly roleBackoff?: { held(now: number): Map<string, number>; shared(now: number): readonly unknown[] | undefined } | undefined;
  /** Rolling LLM budgets (`llm.budgets`) and the roles they hold now. */
  readonly budgets?: { limits(): { role: string | undefined; limit: { usd: number; windowMs: number } }[] } | undefined;
  readonly budgetHolds?: ReadonlyMap<string, unknown> | undefined;
}

/** The labels every per-replica series carries (frozen, and the same object from scrape to scrape). */
export type SlotLabels = Readonly<{ agent: string; role: string; replica: string }>;
