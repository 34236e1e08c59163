/**
 * Recovery: the restart policy and its composable parts. See docs/recovery.md.
 */
export type { ExitCause, RestartDecision, RestartPolicy } from './RestartPolicy.js';
export { FixedDelayRestartPolicy } from './RestartPolicy.js';
export { ExponentialBackoff, DEFAULT_BACKOFF_OPTIONS } from './ExponentialBackoff.js';
export type { ExponentialBackoffOptions, RandomSource } from './ExponentialBackoff.js';
export { CircuitBreaker, DEFAULT_BREAKER_OPTIONS, circuitGaugeValue, systemClock } from './CircuitBreaker.js';
export type { CircuitBreakerOptions, CircuitBreakerState, Clock, CloseEvent, HalfOpenEvent, OpenEvent, OpenTrigger } from './CircuitBreaker.js';
export { BackoffRestartPolicy, DEFAULT_POLICY_OPTIONS } from './BackoffRestartPolicy.js';
export type { BackoffRestartPolicyOptions, CircuitChange, RestartSnapshot } from './BackoffRestartPolicy.js';
