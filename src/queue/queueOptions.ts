import type { BackgroundConfig } from '../config/schema.js';
import type { QueueOptions } from './TaskQueue.js';

/**
 * The queue's options from `background.queue` (durations there are seconds, here ms).
 * `retry_backoff`: attempt n's counted failure waits `initial × multiplier^(n−1)`,
 * ± `jitter` of that, at most `max`, before the task is dispatched again.
 */
export function queueOptions(q: BackgroundConfig['queue'], extra: Pick<QueueOptions, 'now'> & { random?: () => number } = {}): QueueOptions {
  const rb = q.retry_backoff;
  return {
    maxDepth: q.max_depth,
    maxAttempts: q.max_attempts,
    historyRetention: q.history_retention,
    retryBackoff: { baseDelayMs: rb.initial * 1000, maxDelayMs: rb.max * 1000, multiplier: rb.multiplier, jitter: rb.jitter, ...(extra.random ? { random: extra.random } : {}) },
    ...(extra.now ? { now: extra.now } : {}),
  };
}
