import { performance } from 'node:perf_hooks';
import type { AgentMessageInput } from '../protocol/messages.js';
import type { Logger } from './logger.js';
import { withTaskSpan } from './tracing.js';

/** What a task handler (or a `track()` function) receives besides the task itself. */
export interface TaskContext {
  readonly taskId: string;
  /** The supervisor's correlation id: the same id is in its metrics exemplars, traces and logs. */
  readonly correlationId: string;
  /** Aborted on `task.cancel` or when the agent shuts down; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** A child of `agent.logger` bound to `task_id`, `correlation_id` and, when known, `trace_id`. */
  readonly log: Logger;
  /**
   * Reports progress; it also resets the supervisor's stale-task clock.
   * @param fraction 0..1 (clamped), optional.
   */
  progress(fraction?: number, message?: string): void;
}

export interface WorkUnit {
  taskId: string;
  correlationId: string;
  /** Set for self-started work (`track()`). */
  name?: string;
  traceparent?: string;
  attributes: Record<string, string | number>;
  controller: AbortController;
}

export type WorkOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs one unit of work with the full lifecycle: started, progress, finished or failed, inside a `task.run` span. */
export async function runWork<T>(
  unit: WorkUnit,
  send: (message: AgentMessageInput) => void,
  logger: Logger,
  fn: (ctx: TaskContext) => Promise<T> | T,
): Promise<WorkOutcome<Awaited<T>>> {
  const start = performance.now();
  const elapsed = (): number => Math.round((performance.now() - start) * 1000) / 1000;
  send({ type: 'task.started', task_id: unit.taskId, name: unit.name, correlation_id: unit.correlationId });
  return withTaskSpan<WorkOutcome<Awaited<T>>>(unit.traceparent, { 'task.id': unit.taskId, 'correlation.id': unit.correlationId, ...unit.attributes }, async (ids, span) => {
    const log = logger.child({ task_id: unit.taskId, correlation_id: unit.correlationId, ...ids });
    const ctx: TaskContext = {
      taskId: unit.taskId,
      correlationId: unit.correlationId,
      signal: unit.controller.signal,
      log,
      progress(fraction, message) {
        const progress = typeof fraction === 'number' && Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : undefined;
        send({ type: 'task.progress', task_id: unit.taskId, progress, message: message?.slice(0, 4096) });
        span.addEvent('progress', { ...(progress !== undefined ? { 'task.progress': progress } : {}), ...(message ? { 'task.progress.message': message.slice(0, 200) } : {}) });
      },
    };
    log.info({ name: unit.name }, 'task started');
    try {
      const value = await fn(ctx);
      const duration = elapsed();
      send({ type: 'task.finished', task_id: unit.taskId, duration_ms: duration, result: toJson(value) });
      log.info({ duration_ms: duration }, 'task finished');
      return { ok: true, value } as const;
    } catch (error) {
      const duration = elapsed();
      const failure = describeFailure(error, unit.controller.signal);
      send({ type: 'task.failed', task_id: unit.taskId, duration_ms: duration, ...failure });
      log.warn({ duration_ms: duration, err: error, retryable: failure.retryable }, 'task failed');
      return { ok: false, error } as const;
    }
  }).catch((error: unknown) => ({ ok: false, error }) as const);
}

/** Error fields for `task.failed`. Cancellation is permanent; a shutdown abort is retryable. */
export function describeFailure(
  error: unknown,
  signal: AbortSignal,
): { error: { message: string; code?: string }; retryable: boolean } {
  const message = error instanceof Error ? error.message : String(error);
  const rawCode = (error as { code?: unknown } | null)?.code;
  let code = typeof rawCode === 'string' ? rawCode : undefined;
  let retryable = (error as { retryable?: unknown } | null)?.retryable !== false;
  const reason = signal.aborted ? (signal.reason as { code?: unknown } | undefined)?.code : undefined;
  if (reason === 'CANCELLED') {
    code = 'CANCELLED';
    retryable = false;
  } else if (reason === 'SHUTDOWN') {
    code ??= 'SHUTDOWN';
  }
  return { error: { message: message || 'task failed', code }, retryable };
}

/** Keeps only what survives JSON; a result that cannot be serialized is reported as a description. */
function toJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch (err) {
    return { unserializable: (err as Error).message };
  }
}
