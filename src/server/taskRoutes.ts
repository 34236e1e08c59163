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

/**
 * POST /api/v1/tasks/:id/retry (body `{}` or `{"reason": "…"}`, optional): a failed
 * (dead-lettered) or cancelled task goes back to pending with its attempts reset; its
 * attempt history is kept and the retry recorded. 200 `{retried: true, task}` (the task
 * with its history); 404 `unknown_task`; 409 `not_retryable` with the task's `status`.
 */
export function registerTaskRoutes(app: FastifyInstance, sup: Supervisor): void {
  app.post<{ Params: { id: string }; Body: { reason?: string } | null | undefined }>('/api/v1/tasks/:id/retry', { ...routeAuth('api'), schema: retrySchema }, async (req, reply) => {
    try {
      const task = sup.retry(req.params.id, req.body?.reason);
      return { retried: true, task: sup.queue.withHistory(task) };
    } catch (err) {
      if (err instanceof UnknownTaskError) return sendError(reply, 404, 'unknown_task', err.message);
      if (err instanceof TaskStateError) return reply.code(409).send({ error: 'not_retryable', reason: err.message, status: err.status });
      throw err;
    }
  });
}
