import type { FleetCounts } from '../../supervisor/fleetCounts.js';
import type { AgentStatus } from '../../supervisor/statusSnapshot.js';

export type { AgentStatus };

export type Verdict = 'healthy' | 'degraded' | 'unhealthy';

/** GET /api/v1/status, the part the monitor reads. */
export interface StatusBody {
  supervisor: { pid: number; started_at: string; version: string; state_dir?: string };
  agents: AgentStatus[];
  /** The fleet counts every surface shows (absent from an older supervisor: computed from the rows). */
  fleet?: FleetCounts | undefined;
  queue: { pending: number; in_progress: number; by_role?: Record<string, Record<string, number>> };
}

/** One health finding, normalised from GET /api/v1/health (whatever its exact shape). */
export interface Finding {
  check: string;
  severity: Verdict | string;
  message: string;
}

/** Health of one replica (or one agent, when the endpoint reports per agent). */
export interface AgentHealth {
  verdict: Verdict;
  findings: Finding[];
}

export interface HealthView {
  verdict: Verdict;
  /** Keyed by replica id (e.g. `qaa-1`) and by agent name. */
  agents: Map<string, AgentHealth>;
  /** Where the verdict came from: the supervisor's health endpoint or derived from status. */
  source: 'endpoint' | 'derived';
}

export type EventKind = 'restart' | 'finding' | 'escalation' | 'state' | 'connection';

/** A line of the recent-events pane. */
export interface MonitorEvent {
  at: number;
  kind: EventKind;
  agent: string | null;
  text: string;
  tone: 'ok' | 'warn' | 'bad' | 'dim';
}

/** Everything one frame shows about the supervisor, as of `at`. */
export interface Snapshot {
  at: number;
  /** false while the supervisor cannot be reached (the last good data is kept). */
  connected: boolean;
  /** When the supervisor last answered (ms). */
  okAt?: number | undefined;
  /** Why the last poll failed, when it did. */
  error?: string | undefined;
  status?: StatusBody | undefined;
  health?: HealthView | undefined;
  /** Tasks completed in the last minute; undefined when unknown. */
  ratePerMin?: number | undefined;
  events: MonitorEvent[];
}
