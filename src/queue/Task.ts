/** Task status, as in the seed: pending → in_progress → completed | failed | cancelled. */
export type TaskStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface LlmUsage {
  num_turns?: number | undefined;
  duration_ms?: number | undefined;
  total_cost_usd?: number | undefined;
  usage?: Record<string, number | undefined> | undefined;
}

export interface Task {
  id: string;
  role: string;
  title: string;
  prompt: string | null;
  payload: unknown;
  /** 1..10, higher runs first. */
  priority: number;
  status: TaskStatus;
  attempts: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  assigned_to: string | null;
  /** The trace id of the task's trace: ties metrics exemplars, spans and logs together. */
  correlation_id: string;
  traceparent: string | null;
  progress: number | null;
  progress_message: string | null;
  last_activity_at: number | null;
  result: unknown;
  error: string | null;
  llm: LlmUsage | null;
}

export interface SubmitInput {
  role: string;
  title: string;
  prompt?: string | undefined;
  payload?: unknown;
  priority?: number | undefined;
  id?: string | undefined;
  correlation_id: string;
  traceparent?: string | undefined;
}

/**
 * Why an attempt of a task ended without completing it. Only agent failures
 * (`COUNTED_CAUSES`) use up one of the task's attempts; an operator restart, a
 * graceful stop, a lost supervisor or a cancel give the attempt back.
 */
export type AttemptCause =
  | 'agent_failed' // the agent reported a failure, or a per_task run exited non-zero / with an error result
  | 'crashed' // the agent process died while it held the task
  | 'timeout' // the task ran past task_timeout and was killed
  | 'stalled' // the run printed nothing for the stale-task threshold and was killed
  | 'spawn_failed' // the per_task process could not be started (E2BIG, ENOENT, ...)
  | 'operator_restart' // `background restart` / an alert restart ended the run
  | 'supervisor_stopped' // a graceful `background stop`
  | 'supervisor_lost' // found in progress after the supervisor was killed
  | 'cancelled'; // cancelled by the operator

export const COUNTED_CAUSES: ReadonlySet<AttemptCause> = new Set<AttemptCause>(['agent_failed', 'crashed', 'timeout', 'stalled', 'spawn_failed']);

export const priorityBand = (p: number): 'high' | 'normal' | 'low' => (p >= 8 ? 'high' : p >= 4 ? 'normal' : 'low');

export class QueueFullError extends Error {
  readonly code = 'ERR_QUEUE_FULL';
  constructor(readonly depth: number, readonly max: number) {
    super(`The task queue is full (${depth} pending, max_depth ${max}). Retry later, add capacity, or raise background.queue.max_depth.`);
    this.name = 'QueueFullError';
  }
}

export class DuplicateTaskError extends Error {
  readonly code = 'ERR_DUPLICATE_TASK';
  constructor(readonly id: string) {
    super(`A task with id ${id} already exists. Use another --id, or omit it to get a generated one.`);
    this.name = 'DuplicateTaskError';
  }
}
