import { randomUUID } from 'node:crypto';
import type { AgentMessageInput, TaskPayload } from '../protocol/messages.js';
import { AgentSdkError } from './errors.js';
import type { Logger } from './logger.js';
import { runWork, type TaskContext } from './runWork.js';
import { TaskAbort } from './TaskAbort.js';

/** A task assigned by the supervisor, as the handler sees it. */
export type AssignedTask = TaskPayload & { correlationId: string; traceparent?: string };

export type TaskHandler = (task: AssignedTask, ctx: TaskContext) => Promise<unknown> | unknown;

/**
 * Runs assigned tasks one at a time, in arrival order. Tasks that arrive before
 * a handler is registered wait for it. Tasks that never started (cancelled while
 * queued, or queued at shutdown) are dropped without a report, as in the Python
 * SDK: they cost no attempt, and the supervisor requeues what it leased.
 */
export class TaskRunner {
  private handler: TaskHandler | undefined;
  private readonly queue: AssignedTask[] = [];
  private current: { id: string; abort: TaskAbort; done: Promise<void> } | undefined;
  private stopped = false;

  constructor(
    private readonly send: (message: AgentMessageInput) => void,
    private readonly logger: Logger,
    /** The supervisor watches steps (`welcome.settings.task_steps`): `ctx.step()` reports them. */
    private readonly steps = false,
  ) {}

  setHandler(handler: TaskHandler): void {
    this.handler = handler;
    this.pump();
  }

  assign(task: AssignedTask): void {
    if (this.stopped) {
      this.logger.warn({ task_id: task.id }, 'task assigned during shutdown: not started');
      return;
    }
    this.queue.push(task);
    this.pump();
  }

  cancel(taskId: string, reason: string): void {
    if (this.current?.id === taskId) {
      this.current.abort.abort(new AgentSdkError('CANCELLED', `Task ${taskId} was cancelled by the supervisor: ${reason}`));
      return;
    }
    const index = this.queue.findIndex((t) => t.id === taskId);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.logger.info({ task_id: taskId, reason }, 'queued task cancelled before it started');
    }
  }

  /** Aborts the running task (its handler sees `ctx.signal`), drops queued ones, and resolves when the running one settled. */
  stop(reason: string): Promise<void> {
    this.stopped = true;
    const dropped = this.queue.splice(0).map((t) => t.id);
    if (dropped.length > 0) this.logger.warn({ task_ids: dropped }, 'queued tasks not started because of shutdown');
    if (!this.current) return Promise.resolve();
    this.current.abort.abort(new AgentSdkError('SHUTDOWN', `The agent is shutting down: ${reason}`));
    return this.current.done;
  }

  private pump(): void {
    if (this.current || this.stopped || !this.handler) return;
    const task = this.queue.shift();
    if (!task) return;
    const handler = this.handler;
    const abort = new TaskAbort();
    const done = runWork(
      {
        taskId: task.id,
        correlationId: task.correlationId || randomUUID(),
        traceparent: task.traceparent,
        attempt: task.attempt,
        attributes: { 'task.role': task.role, 'task.attempt': task.attempt },
        abort,
        steps: this.steps,
      },
      this.send,
      this.logger,
      (ctx) => handler(task, ctx),
    ).then(() => {
      this.current = undefined;
      this.pump();
    });
    this.current = { id: task.id, abort, done };
  }
}
