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
