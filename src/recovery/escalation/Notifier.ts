/** Why a human should look: the policy gave up, or the circuit breaker opened. */
export type EscalationReason = 'restarts_exhausted' | 'circuit_open' | 'budget_exceeded';

/**
 * One escalation, as the supervisor emits it: `slot` is the replica (`qaa-0`),
 * `at` is epoch milliseconds.
 */
export interface Escalation {
  agent: string;
  role: string;
  slot: string;
  reason: EscalationReason;
  detail: string;
  at: number;
}

/** Delivery counts for one channel. Each escalation ends in exactly one of them. */
export interface ChannelCounters {
  /** Delivered (for the console: written to the log). */
  sent: number;
  /** Given up on after its retries, or refused for good (an HTTP 4xx, an SMTP 5xx). */
  failed: number;
  /** Never attempted: the queue was full, or the supervisor stopped first. */
  dropped: number;
}

/** The logger methods the escalation layer uses (a pino Logger fits). */
export interface AlertLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A channel an escalation is sent through: email, webhook or console. */
export interface Notifier {
  /** The channel name used in counters and logs (`email`, `webhook`, `console`). */
  readonly channel: string;
  /**
   * Hands one escalation over for delivery and returns at once. Delivery happens
   * in the background; its failures are logged and counted, never thrown.
   */
  notify(e: Escalation): void;
  /** A copy of this channel's counters. */
  counters(): ChannelCounters;
  /**
   * Stops taking escalations, waits up to `graceMs` (default 2000) for the ones
   * already queued, then abandons the rest (counted as dropped or failed).
   * Idempotent; never rejects.
   */
  close(graceMs?: number): Promise<void>;
}

/** Counters that start at zero. */
export const zeroCounters = (): ChannelCounters => ({ sent: 0, failed: 0, dropped: 0 });
