import { performance } from 'node:perf_hooks';
import type { Attributes } from '@opentelemetry/api';
import type { AgentMessageInput } from '../protocol/messages.js';
import { JsonText } from './encode.js';
import type { Logger } from './logger.js';
import { stepMessage } from './stepMessage.js';
import type { TaskAbort } from './TaskAbort.js';
import { withTaskSpan, type TraceIds } from './lazyTracing.js';

/** What a task handler (or a `track()` function) receives besides the task itself. */
export interface TaskContext {
  readonly taskId: string;
  /**
   * The number of this delivery of the task, from 1 (`task.assign`'s `attempt`). Delivery
   * is at least once: above 1, an earlier attempt may have done part or all of the work
   * (it failed, or was stopped by a restart or a supervisor crash), so make side effects
   * idempotent, keyed on `taskId`. Always 1 for work the agent tracks itself (`track()`).
   */
  readonly attempt: number;
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
  /**
   * Reports one step of the work once it returned: the tool or action `name`, its `input`
   * and its `output` (JSON values; only their SHA-256 digests leave the process, with a
   * short summary of the input for diagnoses). The supervisor's tool-loop detection
   * (`health_checks.llm_progress`) ends the task when the same step gives the same output
   * `max_repeats` times within its window ("called read_file note.txt 5 times in 40 s …"):
   * the handler's `signal` aborts with a cancel. A step whose output changes (a build
   * polled until it is done) is never a loop. Sends nothing when the supervisor does not
   * watch steps, and for work the agent tracks itself (`track()`).
   */
  step(name: string, input?: unknown, output?: unknown): void;
}

export interface WorkUnit {
  taskId: string;
  correlationId: string;
  /** Set for self-started work (`track()`). */
  name?: string;
  traceparent?: string;
  /** The delivery number (`task.assign`'s `attempt`); default 1. */
  attempt?: number;
  attributes: Record<string, string | number>;
  abort: TaskAbort;
  /** Report `ctx.step()` as `task.step` (an assigned task, and the supervisor watches steps). */
  steps?: boolean;
}

export type WorkOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs one unit of work with the full lifecycle: started, progress, finished or failed,
 * inside a `task.run` span. `task started` and `task finished` are logged at debug (the
 * supervisor records the lifecycle from the messages), a failure at warn. The task's
 * child logger and its AbortController are only created when used.
 */
export async function runWork<T>(
  unit: WorkUnit,
  send: (message: AgentMessageInput) => void,
  logger: Logger,
  fn: (ctx: TaskContext) => Promise<T> | T,
): Promise<WorkOutcome<Awaited<T>>> {
  const start = performance.now();
  const elapsed = (): number => Math.round((performance.now() - start) * 1000) / 1000;
  const { taskId, correlationId } = unit;
  send({ type: 'task.started', task_id: taskId, name: unit.name, correlation_id: correlationId });
  const attributes = (): Attributes => Object.assign({ 'task.id': taskId, 'correlation.id': correlationId }, unit.attributes);
  return withTaskSpan<WorkOutcome<Awaited<T>>>(unit.traceparent, attributes, async (ids, span) => {
    const step = unit.steps ? (name: string, input?: unknown, output?: unknown) => send(stepMessage(taskId, name, input, output)) : noStep;
    const ctx = new WorkContext(unit, logger, ids, step, (fraction, message) => {
      const progress = typeof fraction === 'number' && Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : undefined;
      send({ type: 'task.progress', task_id: taskId, progress, message: message?.slice(0, 4096) });
      if (span.isRecording()) {
        const event: Attributes = {};
        if (progress !== undefined) event['task.progress'] = progress;
        if (message) event['task.progress.message'] = message.slice(0, 200);
        span.addEvent('progress', event);
      }
    });
    const debug = logger.isLevelEnabled('debug');
    if (debug) ctx.log.debug({ name: unit.name }, 'task started');
    try {
      const value = await fn(ctx);
      const duration = elapsed();
      // `result` last: the channel appends its JSON text as it is (encodeMessage).
      send({ type: 'task.finished', task_id: taskId, duration_ms: duration, result: toJson(value) });
      if (debug) ctx.log.debug({ duration_ms: duration }, 'task finished');
      return { ok: true, value } as const;
    } catch (error) {
      const duration = elapsed();
      const failure = describeFailure(error, unit.abort);
      send({ type: 'task.failed', task_id: taskId, duration_ms: duration, ...failure });
      ctx.log.warn({ duration_ms: duration, err: error, retryable: failure.retryable }, 'task failed');
      return { ok: false, error } as const;
    }
  }).catch((error: unknown) => ({ ok: false, error }) as const);
}

/**
 * The `ctx` a handler gets. `signal` and `log` are getters on the prototype, so the
 * AbortController and the child logger are only made when read. (An object literal
 * with getters, made per task, measured about 1.5 µs against 0.1 for this class, and
 * on Node 20 it made scavenges keep every task's objects until a full GC.)
 * `progress` is an own function property, so it still works detached from `ctx`.
 */
class WorkContext implements TaskContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly correlationId: string;
  readonly progress: (fraction?: number, message?: string) => void;
  readonly step: (name: string, input?: unknown, output?: unknown) => void;
  readonly #unit: WorkUnit;
  readonly #logger: Logger;
  readonly #ids: TraceIds;
  #log: Logger | undefined;

  constructor(unit: WorkUnit, logger: Logger, ids: TraceIds, step: (name: string, input?: unknown, output?: unknown) => void, progress: (fraction?: number, message?: string) => void) {
    this.taskId = unit.taskId;
    this.step = step;
    this.attempt = unit.attempt ?? 1;
    this.correlationId = unit.correlationId;
    this.progress = progress;
    this.#unit = unit;
    this.#logger = logger;
    this.#ids = ids;
  }

  get signal(): AbortSignal {
    return this.#unit.abort.signal;
  }

  get log(): Logger {
    return (this.#log ??= this.#logger.child(Object.assign({ task_id: this.taskId, correlation_id: this.correlationId }, this.#ids)));
  }
}

const noStep = (): void => undefined;

/** Error fields for `task.failed`. Cancellation is permanent; a shutdown abort is retryable. */
export function describeFailure(
  error: unknown,
  signal: { readonly aborted: boolean; readonly reason?: unknown },
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

/**
 * The result as JSON, serialized once: the channel writes its text as it is (the
 * message carries what survives JSON, as before). A result that cannot be serialized
 * is reported as a description.
 */
function toJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : new JsonText(text);
  } catch (err) {
    return { unserializable: (err as Error).message };
  }
}
