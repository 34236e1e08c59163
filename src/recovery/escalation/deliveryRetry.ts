import { ExponentialBackoff, halfJitterGenerator, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { isRetryable } from './DeliveryError.js';

/** Backoff between delivery attempts, in milliseconds. */
export interface BackoffOptions {
  /** The first delay (ms). Default 1000. */
  initialDelayMs: number;
  /** The ceiling for every delay (ms). Default 30000. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 1000, maxDelayMs: 30_000 };

/**
 * A cockatiel retry policy for alert deliveries: `retries` more attempts after
 * the first, with exponential backoff, only for errors that may pass on another
 * try (see DeliveryError.retryable). Delay n (from 0) is drawn from [d/2, d) with
 * d = min(maxDelayMs, initialDelayMs · 2^n): jittered, yet growing until the cap,
 * and easy to explain. Its timers are unref'd, so a pending retry never keeps the
 * process alive.
 */
export function deliveryRetry(retries: number, backoff: BackoffOptions = DEFAULT_BACKOFF): RetryPolicy {
  return retry(handleWhen(isRetryable), {
    maxAttempts: retries,
    backoff: new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: backoff.initialDelayMs, maxDelay: backoff.maxDelayMs }),
  }).dangerouslyUnref();
}
