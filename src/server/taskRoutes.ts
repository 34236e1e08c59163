import type { FastifyInstance } from 'fastify';
import { routeAuth } from './routeAuth.js';
import { TaskStateError, UnknownTaskError } from '../queue/Task.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { sendError } from './createServer.js';

const retrySchema = {
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
  body: {
    anyOf: [
      { type: 'null' },
      { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } },
    ],
  },
} as const;

const prioritySchema = {
  params: retrySchema.params,
  body: { type: 'object', additionalProperties: false, required: ['priority'], properties: { priority: { type: 'integer', minimum: 1, maximum: 10 } } },
} as const;

/**
 * POST /api/v1/tasks/:id/retry (body `{}` or `{"reason": "…"}`, optional): a failed
 * (dead-lettered) or cancelled task goes back to pending with its attempts reset; its
 * attempt history is kept and the retry recorded. 200 `{retried: true, task}` (the task
 * with its history); 404 `unknown_task`; 409 `not_retryable` with the task's `status`.
 *
 * POST /api/v1/tasks/:id/priority `{"priority": 1..10}`: a pending task's new priority
 * (higher runs first). 200 `{reprioritised: true, previous_priority, task}`; 400 for a
 * missing or out-of-range priority; 404 `unknown_task`; 409 `not_pending` with the
 * task's `status`.
 */
export function registerTaskRoutes(app: FastifyInstance, sup: Supervisor): void {
  app.post<{ Params: { id: string }; Body: { reason?: string } | null | undefined }>('/api/v1/tasks/:id/retry', { ...routeAuth('api'), schema: retrySchema }, async (req, reply) => {
    try {
      const task = await sup.retry(req.params.id, req.body?.reason);
      return { retried: true, task: await sup.queue.withHistory(task) };
    } catch (err) {
      if (err instanceof UnknownTaskError) return sendError(reply, 404, 'unknown_task', err.message);
      if (err instanceof TaskStateError) return reply.code(409).send({ error: 'not_retryable', reason: err.message, status: err.status });
      throw err;
    }
  });

  app.post<{ Params: { id: string }; Body: { priority: number } }>('/api/v1/tasks/:id/priority', { ...routeAuth('api'), schema: prioritySchema }, async (req, reply) => {
    try {
      const r = await sup.reprioritise(req.params.id, req.body.priority);
      return { reprioritised: true, previous_priority: r.previous, task: await sup.queue.withHistory(r.task) };
    } catch (err) {
      if (err instanceof UnknownTaskError) return sendError(reply, 404, 'unknown_task', err.message);
      if (err instanceof TaskStateError) return reply.code(409).send({ error: 'not_pending', reason: err.message, status: err.status });
      throw err;
    }
  });
}
