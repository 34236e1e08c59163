/**
 * The restart decision, kept behind an interface: the exit handler only reports
 * what happened, and a policy decides what to do.
 */
export type ExitCause =
  | { kind: 'crash'; code: number | null; signal: string | null }
  | { kind: 'unhealthy'; finding: string }
  | { kind: 'manual' }
  | { kind: 'alert'; alertname: string };

export type RestartDecision =
  | { action: 'restart'; delayMs: number; attempt: number }
  /** The breaker is open: no restart until `retryAt` (epoch ms), when a half-open trial start is made. */
  | { action: 'circuit_open'; retryAt: number; reason: string }
  /**
   * Restart attempts exhausted: escalate; the agent stays down until reset or the breaker trial.
   * `retryAt` (epoch ms), when set, is when that trial start is due.
   */
  | { action: 'give_up'; reason: string; retryAt?: number };

export interface RestartPolicy {
  /** Called when a replica exits or is found unhealthy. `uptimeMs` is how long it ran. */
  onFailure(agentId: string, cause: ExitCause, uptimeMs: number): RestartDecision;
  /** Called when a replica has been up and healthy (after a start). */
  onStarted(agentId: string): void;
  /** Manual reset (`background reset <agent>`): closes the breaker and clears counters. */
  reset(agentId: string): void;
  /**
   * Optional time-driven transitions, polled by the supervisor about once a second:
   * the agents whose breaker just went half-open and must get their one trial start.
   */
  dueTrials?(): string[];
}

/** The core's interim policy: restart after a fixed short delay, forever. */
export class FixedDelayRestartPolicy implements RestartPolicy {
  constructor(private readonly delayMs = 1000) {}
  onFailure(): RestartDecision {
    return { action: 'restart', delayMs: this.delayMs, attempt: 1 };
  }
  onStarted(): void {}
  reset(): void {}
}
