import type { Event, IDisposable } from 'cockatiel';
import type { RecoveryConfig } from '../config/schema.js';
import { CircuitBreaker, DEFAULT_BREAKER_OPTIONS, ReportingEmitter, systemClock, type CircuitBreakerState, type Clock } from './CircuitBreaker.js';
import { DEFAULT_BACKOFF_OPTIONS, ExponentialBackoff, type RandomSource } from './ExponentialBackoff.js';
import type { ExitCause, RestartDecision, RestartPolicy } from './RestartPolicy.js';

/** Options; durations in ms. Each defaults to its config key's default (in brackets; see docs/recovery.md). */
export interface BackoffRestartPolicyOptions {
  /** restarts per failure episode before give_up [restart_attempts: 5] */ restartAttempts: number;
  /** backoff after the 2nd consecutive failure [base_delay: 1 s] */ baseDelayMs: number;
  /** [backoff_multiplier: 2] */ multiplier: number;
  /** [max_delay: 60 s] */ maxDelayMs: number;
  /** fraction [jitter: 0.2] */ jitter: number;
  /** a run this long resets the episode and closes a half-open breaker [stable_uptime: 300 s] */ stableUptimeMs: number;
  /** [circuit_breaker_threshold: 5] */ breakerThreshold: number;
  /** [breaker_window: 300 s] */ breakerWindowMs: number;
  /** [breaker_cooldown: 60 s] */ breakerCooldownMs: number;
  /** [breaker_max_cooldown: 900 s] */ breakerMaxCooldownMs: number;
  clock: Clock;
  random: RandomSource;
  /** gets exceptions thrown by listeners [process.emitWarning] */ onListenerError: (error: unknown) => void;
}

export const DEFAULT_POLICY_OPTIONS: Readonly<BackoffRestartPolicyOptions> = Object.freeze({
  restartAttempts: 5,
  baseDelayMs: DEFAULT_BACKOFF_OPTIONS.baseDelayMs,
  multiplier: DEFAULT_BACKOFF_OPTIONS.multiplier,
  maxDelayMs: DEFAULT_BACKOFF_OPTIONS.maxDelayMs,
  jitter: DEFAULT_BACKOFF_OPTIONS.jitter,
  stableUptimeMs: DEFAULT_BREAKER_OPTIONS.trialStableMs,
  breakerThreshold: DEFAULT_BREAKER_OPTIONS.threshold,
  breakerWindowMs: DEFAULT_BREAKER_OPTIONS.windowMs,
  breakerCooldownMs: DEFAULT_BREAKER_OPTIONS.cooldownMs,
  breakerMaxCooldownMs: DEFAULT_BREAKER_OPTIONS.maxCooldownMs,
  clock: systemClock,
  random: Math.random,
  onListenerError: DEFAULT_BREAKER_OPTIONS.onListenerError,
});

/** What status and metrics show for one agent. Times are epoch ms. */
export interface RestartSnapshot {
  /** failures since the agent was last stable (or reset) */ readonly consecutiveFailures: number;
  /** restarts used in the current failure episode */ readonly attempt: number;
  readonly breaker: CircuitBreakerState;
  /** when the next automatic start is due (pending restart or breaker trial) */ readonly nextRetryAt: number | null;
  /** attempts exhausted: only a breaker trial or a reset starts it again */ readonly gaveUp: boolean;
}

export interface CircuitChange {
  readonly agentId: string;
  readonly state: CircuitBreakerState;
}

interface AgentState {
  readonly breaker: CircuitBreaker;
  readonly subscriptions: IDisposable[];
  backoff: ExponentialBackoff;
  consecutiveFailures: number;
  attempt: number;
  gaveUp: boolean;
  /** Set by `onStarted`, cleared by `onFailure`. */
  runningSince: number | null;
  pendingRestartAt: number | null;
}

const secs = (ms: number): string => `${Math.round(Math.max(0, ms) / 100) / 10} s`;

/**
 * The supervisor's restart policy: exponential backoff with jitter inside a failure
 * episode, a restart budget per episode, and a circuit breaker per agent id. See
 * docs/recovery.md for the state diagram.
 *
 * Time-driven transitions need a poll: call {@link dueTrials} when {@link nextWakeAt}
 * arrives (or on any timer); it returns the agents whose breaker just went half-open
 * and must now get their one trial start.
 */
export class BackoffRestartPolicy implements RestartPolicy {
  private readonly o: BackoffRestartPolicyOptions;
  private readonly agents = new Map<string, AgentState>();
  private readonly changeEmitter: ReportingEmitter<CircuitChange>;
  /** Fires on every breaker transition of any agent (for logs and the circuit-state gauge). */
  readonly onCircuitChange: Event<CircuitChange>;

  constructor(options: Partial<BackoffRestartPolicyOptions> = {}) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = { ...DEFAULT_POLICY_OPTIONS, ...given };
    if (!Number.isInteger(this.o.restartAttempts) || this.o.restartAttempts < 0) {
      throw new RangeError(`Expected the \`restartAttempts\` option to be a non-negative integer, got \`${String(this.o.restartAttempts)}\``);
    }
    this.changeEmitter = new ReportingEmitter(this.o.onListenerError);
    this.onCircuitChange = this.changeEmitter.addListener;
    this.newBreaker(); // fail fast on bad options rather than at the first failure
    this.newBackoff();
  }

  /** Builds the policy from the parsed `background.monitoring.recovery` block (seconds → ms). */
  static fromConfig(c: RecoveryConfig, deps: { clock?: Clock; random?: RandomSource } = {}): BackoffRestartPolicy {
    return new BackoffRestartPolicy({
      restartAttempts: c.restart_attempts,
      baseDelayMs: c.base_delay * 1000,
      multiplier: c.backoff_multiplier,
      maxDelayMs: c.max_delay * 1000,
      jitter: c.jitter,
      stableUptimeMs: c.stable_uptime * 1000,
      breakerThreshold: c.circuit_breaker_threshold,
      breakerWindowMs: c.breaker_window * 1000,
      breakerCooldownMs: c.breaker_cooldown * 1000,
      breakerMaxCooldownMs: c.breaker_max_cooldown * 1000,
      ...deps,
    });
  }

  /**
   * Decides in this order: a run of ≥ `stableUptimeMs` first ends the episode (and
   * passes a half-open trial); an open breaker refuses everything, manual restarts
   * included; a manual restart is immediate and not counted; any other cause is a
   * failure: it may open the breaker, exhaust the attempts (give_up, and the breaker
   * is tripped so a trial still follows), or restart — at once for the first failure
   * of an episode, then with backoff.
   */
  onFailure(agentId: string, cause: ExitCause, uptimeMs: number): RestartDecision {
    const s = this.stateFor(agentId);
    const now = this.o.clock.now();
    s.runningSince = null;
    s.pendingRestartAt = null;
    if (uptimeMs >= this.o.stableUptimeMs) {
      this.resetEpisode(s);
      s.breaker.markStable(); // a half-open trial that ran this long succeeded
    }
    const b = s.breaker.state;
    if (b.kind === 'open') {
      return { action: 'circuit_open', retryAt: b.until, reason: `circuit breaker is open; a trial start is due in ${secs(b.until - now)}. Run \`background reset ${agentId}\` to close it now.` };
    }
    if (cause.kind === 'manual') {
      s.pendingRestartAt = now;
      return { action: 'restart', delayMs: 0, attempt: 0 };
    }
    s.consecutiveFailures += 1;
    const after = s.breaker.recordFailure();
    if (after.kind === 'open') {
      const why = after.trigger === 'trial_failed' ? 'the half-open trial start failed' : `${this.o.breakerThreshold} failures within ${secs(this.o.breakerWindowMs)}`;
      return { action: 'circuit_open', retryAt: after.until, reason: `${why}: circuit breaker open for ${secs(after.cooldownMs)}, agent disabled. Run \`background reset ${agentId}\` to close it now.` };
    }
    if (s.attempt >= this.o.restartAttempts) {
      s.gaveUp = true;
      const opened = s.breaker.trip();
      const retryAt = opened.kind === 'open' ? opened.until : now;
      return { action: 'give_up', retryAt, reason: `${this.o.restartAttempts} restart attempts exhausted after ${s.consecutiveFailures} consecutive failures; escalating. A trial start is due in ${secs(retryAt - now)}; run \`background reset ${agentId}\` to retry now.` };
    }
    s.attempt += 1;
    let delayMs = 0;
    if (s.consecutiveFailures > 1) {
      s.backoff = s.backoff.next();
      delayMs = s.backoff.duration;
    }
    s.pendingRestartAt = now + delayMs;
    return { action: 'restart', delayMs, attempt: s.attempt };
  }

  /** The replica is up: its stable period (and a half-open trial's) counts from now. */
  onStarted(agentId: string): void {
    const s = this.stateFor(agentId);
    s.runningSince = this.o.clock.now();
    s.pendingRestartAt = null;
    s.breaker.markTrialStarted();
  }

  /** Manual reset: closes the breaker and clears the episode. */
  reset(agentId: string): void {
    const s = this.agents.get(agentId);
    if (!s) return;
    s.breaker.reset(); // emits close (manual) when it was not closed, which resets the episode
    this.resetEpisode(s);
    s.pendingRestartAt = null;
  }

  /** Drops an agent's state (it was removed from the config). */
  forget(agentId: string): void {
    this.agents.get(agentId)?.subscriptions.forEach((d) => d.dispose());
    this.agents.delete(agentId);
  }

  circuitState(agentId: string): CircuitBreakerState {
    return this.agents.get(agentId)?.breaker.state ?? { kind: 'closed', failures: [] };
  }

  snapshot(agentId: string): RestartSnapshot {
    const s = this.agents.get(agentId);
    if (!s) return { consecutiveFailures: 0, attempt: 0, breaker: this.circuitState(agentId), nextRetryAt: null, gaveUp: false };
    const breaker = s.breaker.state;
    const nextRetryAt = breaker.kind === 'open' ? breaker.until : s.pendingRestartAt;
    return { consecutiveFailures: s.consecutiveFailures, attempt: s.attempt, breaker, nextRetryAt, gaveUp: s.gaveUp };
  }

  /**
   * Applies every time-driven transition and returns the ids of agents whose breaker
   * has just gone open → half_open. Each id is returned once: the caller must make
   * that agent's one trial start now (and call `onStarted` when it is up). Also closes
   * half-open breakers whose trial stayed up `stableUptimeMs`, and resets the failure
   * episode of agents that have been running that long.
   */
  dueTrials(): string[] {
    const now = this.o.clock.now();
    const due: string[] = [];
    for (const [agentId, s] of this.agents) {
      if (s.runningSince !== null && now - s.runningSince >= this.o.stableUptimeMs) this.resetEpisode(s);
      const before = s.breaker.state.kind;
      const after = s.breaker.tick().kind;
      if (before === 'open' && after === 'half_open') due.push(agentId);
    }
    return due;
  }

  /** The earliest time (epoch ms) at which {@link dueTrials} has work to do, or undefined. */
  nextWakeAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.agents.values()) {
      const episodeEnd = s.runningSince !== null && (s.consecutiveFailures > 0 || s.gaveUp) ? s.runningSince + this.o.stableUptimeMs : undefined;
      for (const t of [s.breaker.nextTransitionAt(), episodeEnd]) if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  private resetEpisode(s: AgentState): void {
    s.consecutiveFailures = 0;
    s.attempt = 0;
    s.gaveUp = false;
    s.backoff = s.backoff.reset();
  }

  private stateFor(agentId: string): AgentState {
    return this.agents.get(agentId) ?? this.newState(agentId);
  }

  private newBreaker(): CircuitBreaker {
    const o = this.o;
    return new CircuitBreaker({
      threshold: o.breakerThreshold, windowMs: o.breakerWindowMs, cooldownMs: o.breakerCooldownMs,
      maxCooldownMs: o.breakerMaxCooldownMs, trialStableMs: o.stableUptimeMs, clock: o.clock, onListenerError: o.onListenerError,
    });
  }

  private newBackoff(): ExponentialBackoff {
    const o = this.o;
    return new ExponentialBackoff({ baseDelayMs: o.baseDelayMs, multiplier: o.multiplier, maxDelayMs: o.maxDelayMs, jitter: o.jitter, random: o.random });
  }

  private newState(agentId: string): AgentState {
    const breaker = this.newBreaker();
    const s: AgentState = { breaker, backoff: this.newBackoff(), subscriptions: [], consecutiveFailures: 0, attempt: 0, gaveUp: false, runningSince: null, pendingRestartAt: null };
    const changed = (): void => this.changeEmitter.emit({ agentId, state: breaker.state });
    s.subscriptions.push(
      breaker.onOpen(changed),
      breaker.onHalfOpen(changed),
      breaker.onClose(() => {
        this.resetEpisode(s); // a closed breaker (stable trial or manual reset) ends the episode
        changed();
      }),
    );
    this.agents.set(agentId, s);
    return s;
  }
}
