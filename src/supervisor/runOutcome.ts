import type { AttemptCause } from '../queue/Task.js';
import type { RunEnding, RunResult } from './PerTaskRunState.js';
import { resultErrorText } from './adapters/resultError.js';
import { describeExit } from './ReplicaState.js';

/** Causes of a run that failed (each uses up one of the task's attempts, see COUNTED_CAUSES). */
export type FailedRunCause = Extract<AttemptCause, 'agent_failed' | 'crashed' | 'timeout' | 'stalled' | 'budget_exceeded' | 'tool_loop' | 'spawn_failed'>;
/** Causes of a run that ended without the agent failing: the attempt is given back (or the task was cancelled). */
export type ReleasedRunCause = Extract<AttemptCause, 'operator_restart' | 'supervisor_stopped' | 'cancelled' | 'rate_limited'>;

/** What becomes of a run's task, decided from what the run saw. */
export type RunVerdict =
  | { outcome: 'completed'; result: RunResult | undefined }
  | { outcome: 'failed'; cause: FailedRunCause; error: string; retryable: boolean }
  | { outcome: 'released'; cause: ReleasedRunCause; detail: string };


/**
 * Decides a run's outcome from its ending. The run only reports; this is the rule:
 * 1. It could not be spawned: failed (`spawn_failed`); not retryable when the
 *    command is too long for the kernel (E2BIG: it would fail the same way again).
 * 2. The task was cancelled: released (`cancelled`).
 * 3. The supervisor ended it after it printed a successful `result`: completed with
 *    that result, whatever the stop's reason (the work is done and paid for).
 * 4. An operator restart or a graceful stop ended it: released (no attempt used).
 * 5. A timeout ended it: failed with that cause and its reason; so did the guard
 *    (`budget_exceeded`: not retried, the budget is spent; `tool_loop`: retried only
 *    when `llm_progress.on_loop` is `retry`).
 * 6. It exited by itself: completed on exit code 0 without an error result; an error
 *    result the API's rate limit caused is released (`rate_limited`: the role backs off,
 *    the attempt is given back); another error result or a non-zero code is
 *    `agent_failed`, a signal nobody sent is `crashed`.
 */
export function runOutcome(e: RunEnding): RunVerdict {
  const { exit, stop, result } = e;
  if (exit.spawnError !== undefined) {
    return { outcome: 'failed', cause: 'spawn_failed', error: describeExit(exit), retryable: !exit.spawnError.startsWith('E2BIG') };
  }
  if (stop?.cause === 'cancelled') return { outcome: 'released', cause: 'cancelled', detail: stop.detail };
  if (stop && result?.ok) return { outcome: 'completed', result };
  if (stop?.cause === 'operator_restart' || stop?.cause === 'supervisor_stopped') return { outcome: 'released', cause: stop.cause, detail: stop.detail };
  if (stop?.cause === 'timeout' || stop?.cause === 'stalled') return { outcome: 'failed', cause: stop.cause, error: stop.detail, retryable: true };
  if (stop?.cause === 'budget_exceeded' || stop?.cause === 'tool_loop') return { outcome: 'failed', cause: stop.cause, error: stop.detail, retryable: stop.retryable ?? false };
  if (result && !result.ok && e.rateLimited !== undefined) return { outcome: 'released', cause: 'rate_limited', detail: `${resultErrorText(result)} (rate-limited: the role backs off; this attempt does not count)` };
  if (result && !result.ok) return { outcome: 'failed', cause: 'agent_failed', error: resultErrorText(result), retryable: true };
  if (exit.code === 0) return { outcome: 'completed', result };
  return { outcome: 'failed', cause: exit.signal ? 'crashed' : 'agent_failed', error: describeExit(exit), retryable: true };
}
