import type { FastifyInstance } from 'fastify';
import { CONTENT_TYPES, negotiateFormat } from './exposition.js';
import type { MetricsRegistry } from './MetricsRegistry.js';

/**
 * GET /metrics: Prometheus text (`text/plain; version=0.0.4`) by default,
 * OpenMetrics 1.0.0 (with trace_id exemplars) when the Accept header asks for it.
 * Open, or basic auth when `background.server.metrics_auth` is set (the server
 * enforces the route's `metrics` declaration, see src/server/routeAuth.ts).
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsRegistry): void {
  app.get('/metrics', { config: { auth: 'metrics' } }, async (req, reply) => {
    const format = negotiateFormat(req.headers.accept);
    const body = await metrics.render(format);
    return reply.header('vary', 'Accept').header('cache-control', 'no-store').type(CONTENT_TYPES[format]).send(body);
  });
}

/**
 * Counts refused submissions of the control API (POST /api/v1/tasks answered with
 * the documented error codes `queue_full`, `unknown_role` or `disk_full`) in
 * `agentic_tasks_rejected_total`. The supervisor emits no event for a refusal, so
 * this reads the API's answer.
 */
export function countRejectedSubmissions(app: FastifyInstance, metrics: MetricsRegistry): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'POST' || req.routeOptions.url !== '/api/v1/tasks' || (reply.statusCode !== 400 && reply.statusCode !== 429 && reply.statusCode !== 507) || typeof payload !== 'string') return payload;
    let error: unknown;
    try {
      error = (JSON.parse(payload) as { error?: unknown }).error;
    } catch {
      return payload;
    }
    const role = (req.body as { role?: unknown } | undefined)?.role;
    if (error === 'queue_full' || error === 'unknown_role' || error === 'disk_full') metrics.taskRejected(typeof role === 'string' ? role : '', error);
    return payload;
  });
}
