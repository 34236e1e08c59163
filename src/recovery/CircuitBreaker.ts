import { EventEmitter, type Event } from 'cockatiel';

/** A source of the current time in epoch milliseconds. Injected so tests can move time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Why a breaker opened: too many failures, a failed half-open trial, or `trip()`. */
export type OpenTrigger = 'threshold' | 'trial_failed' | 'tripped';

/** The breaker's state; each variant carries its own data. Times are epoch ms. */
export type CircuitBreakerState =
  /** Starts allowed. `failures` are the failure times still inside the window. */
  | { readonly kind: 'closed'; readonly failures: readonly number[] }
  /** Agent disabled until `until`; `cooldownMs` is this open period's length. */
  | { readonly kind: 'open'; readonly openedAt: number; readonly until: number; readonly cooldownMs: number; readonly trigger: OpenTrigger }
  /** One trial start, begun at `trialStartedAt`; `cooldownMs` is the cooldown that preceded it. */
  | { readonly kind: 'half_open'; readonly trialStartedAt: number; readonly cooldownMs: number };

export interface OpenEvent { readonly openedAt: number; readonly until: number; readonly cooldownMs: number; readonly trigger: OpenTrigger }
export interface HalfOpenEvent { readonly at: number }
export interface CloseEvent { readonly at: number; readonly reason: 'stable' | 'manual' }

/** The `agentic_agent_circuit_state` gauge value: 0 closed, 1 half-open, 2 open. */
export const circuitGaugeValue = (s: CircuitBreakerState): 0 | 1 | 2 => (s.kind === 'closed' ? 0 : s.kind === 'half_open' ? 1 : 2);

export interface CircuitBreakerOptions {
  /** Failures within `windowMs` that open the breaker. Default 5 (`circuit_breaker_threshold`). */
  threshold: number;
  /** The sliding failure window, in ms. Default 300000 (`breaker_window: 300`). */
  windowMs: number;
  /** The first open period, in ms; doubles after each failed trial. Default 60000 (`breaker_cooldown: 60`). */
  cooldownMs: number;
  /** The longest open period, in ms. Default 900000 (`breaker_max_cooldown: 900`). */
  maxCooldownMs: number;
  /** How long a half-open trial must run without failing to close the breaker, in ms. Default 300000 (`stable_uptime: 300`). */
  trialStableMs: number;
  clock: Clock;
  /** Receives exceptions thrown by event listeners, so a bad listener cannot break a transition. Default: `process.emitWarning`. */
  onListenerError: (error: unknown) => void;
}

export const DEFAULT_BREAKER_OPTIONS: Readonly<CircuitBreakerOptions> = Object.freeze({
  threshold: 5,
  windowMs: 300_000,
  cooldownMs: 60_000,
  maxCooldownMs: 900_000,
  trialStableMs: 300_000,
  clock: systemClock,
  onListenerError: (e: unknown) => process.emitWarning(e instanceof Error ? e : new Error(String(e)), 'ListenerError'),
});

/** A cockatiel EventEmitter whose listeners' exceptions go to a handler instead of the emitter's caller. */
export class ReportingEmitter<T> extends EventEmitter<T> {
  constructor(private readonly onError: (error: unknown) => void) {
    super();
  }
  override emit(value: T): void {
    const ls = this.listeners;
    for (const l of ls === undefined ? [] : typeof ls === 'function' ? [ls] : [...ls]) {
      try {
        l(value);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}

/**
 * A circuit breaker driven by process lifecycle events rather than by wrapping calls:
 * the owner reports failures, and calls `tick()` to let time-based transitions happen
 * (open → half_open when the cooldown ends; half_open → closed after a trial has run
 * `trialStableMs` without failing). Listeners run after the state has changed.
 */
export class CircuitBreaker {
  private readonly o: CircuitBreakerOptions;
  private current: CircuitBreakerState = { kind: 'closed', failures: [] };
  private readonly openEmitter: ReportingEmitter<OpenEvent>;
  private readonly halfOpenEmitter: ReportingEmitter<HalfOpenEvent>;
  private readonly closeEmitter: ReportingEmitter<CloseEvent>;
  /** Fires when the breaker opens (from closed, a failed trial, or `trip()`). */
  readonly onOpen: Event<OpenEvent>;
  /** Fires when the cooldown has ended and a trial start is due. */
  readonly onHalfOpen: Event<HalfOpenEvent>;
  /** Fires when a trial stayed healthy (`stable`) or on `reset()` from open or half-open (`manual`). */
  readonly onClose: Event<CloseEvent>;

  /** @throws RangeError when an option is out of range; the message names the option. */
  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    const o = { ...DEFAULT_BREAKER_OPTIONS, ...options };
    for (const key of ['threshold', 'windowMs', 'cooldownMs', 'maxCooldownMs', 'trialStableMs'] as const) {
      const v = o[key];
      if (!Number.isFinite(v) || v < (key === 'threshold' ? 1 : 0)) {
        throw new RangeError(`Expected the \`${key}\` option to be ${key === 'threshold' ? 'a number ≥ 1' : 'a non-negative number of milliseconds'}, got \`${String(v)}\` (${typeof v})`);
      }
    }
    this.o = o;
    this.openEmitter = new ReportingEmitter(o.onListenerError);
    this.halfOpenEmitter = new ReportingEmitter(o.onListenerError);
    this.closeEmitter = new ReportingEmitter(o.onListenerError);
    this.onOpen = this.openEmitter.addListener;
    this.onHalfOpen = this.halfOpenEmitter.addListener;
    this.onClose = this.closeEmitter.addListener;
  }

  /** The current state. Pure: a closed breaker's `failures` exclude those that left the window. */
  get state(): CircuitBreakerState {
    const s = this.current;
    return s.kind === 'closed' ? { kind: 'closed', failures: this.inWindow(s.failures, this.o.clock.now()) } : s;
  }

  /** When `tick()` next has something to do (epoch ms), or undefined when closed. */
  nextTransitionAt(): number | undefined {
    const s = this.current;
    return s.kind === 'open' ? s.until : s.kind === 'half_open' ? s.trialStartedAt + this.o.trialStableMs : undefined;
  }

  /** Records a failure. Closed: opens at `threshold` within the window. Half-open: reopens with a doubled cooldown. Open: ignored. */
  recordFailure(): CircuitBreakerState {
    const s = this.current;
    const now = this.o.clock.now();
    if (s.kind === 'closed') {
      const failures = [...this.inWindow(s.failures, now), now];
      if (failures.length >= this.o.threshold) this.open(now, this.o.cooldownMs, 'threshold');
      else this.current = { kind: 'closed', failures };
    } else if (s.kind === 'half_open') {
      this.open(now, this.longer(s.cooldownMs), 'trial_failed');
    }
    return this.current;
  }

  /** Opens the breaker now, whatever the failure count (e.g. restart attempts exhausted). No-op when already open. */
  trip(): CircuitBreakerState {
    const s = this.current;
    if (s.kind !== 'open') this.open(this.o.clock.now(), s.kind === 'half_open' ? this.longer(s.cooldownMs) : this.o.cooldownMs, 'tripped');
    return this.current;
  }

  /** Applies time-based transitions; returns the state after them. */
  tick(): CircuitBreakerState {
    const s = this.current;
    const now = this.o.clock.now();
    if (s.kind === 'open' && now >= s.until) {
      this.current = { kind: 'half_open', trialStartedAt: now, cooldownMs: s.cooldownMs };
      this.halfOpenEmitter.emit({ at: now });
    } else if (s.kind === 'half_open' && now - s.trialStartedAt >= this.o.trialStableMs) {
      this.close(now, 'stable');
    }
    return this.current;
  }

  /** Half-open only: the trial process has (re)started now, so its stable period counts from here. */
  markTrialStarted(): void {
    if (this.current.kind === 'half_open') this.current = { ...this.current, trialStartedAt: this.o.clock.now() };
  }

  /** Half-open only: the trial is known to have been stable (e.g. it exited after a long uptime); closes. */
  markStable(): void {
    if (this.current.kind === 'half_open') this.close(this.o.clock.now(), 'stable');
  }

  /** Manual reset: closes from any state and forgets the failure window and cooldown growth. */
  reset(): void {
    const wasClosed = this.current.kind === 'closed';
    if (wasClosed) this.current = { kind: 'closed', failures: [] };
    else this.close(this.o.clock.now(), 'manual');
  }

  private inWindow(failures: readonly number[], now: number): readonly number[] {
    return failures.filter((t) => t > now - this.o.windowMs);
  }

  /** The next cooldown after a failed trial: double the last one (`open()` caps it). */
  private longer(cooldownMs: number): number {
    return Math.max(cooldownMs * 2, this.o.cooldownMs);
  }

  private open(now: number, cooldownMs: number, trigger: OpenTrigger): void {
    const cd = Math.min(cooldownMs, this.o.maxCooldownMs);
    this.current = { kind: 'open', openedAt: now, until: now + cd, cooldownMs: cd, trigger };
    this.openEmitter.emit({ openedAt: now, until: now + cd, cooldownMs: cd, trigger });
  }

  private close(now: number, reason: CloseEvent['reason']): void {
    this.current = { kind: 'closed', failures: [] };
    this.closeEmitter.emit({ at: now, reason });
  }
}
