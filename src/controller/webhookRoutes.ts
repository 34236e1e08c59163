import type { FastifyInstance } from 'fastify';
import { sendError } from '../server/createServer.js';
import { routeAuth } from '../server/routeAuth.js';
import { parseAlertmanagerPayload } from './alertmanagerPayload.js';
import { ControllerBusyError, type RecoveryController } from './RecoveryController.js';

/** Default body limit of the webhook: 512 KiB (the generated config caps a notification at 64 alerts). */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;

export interface WebhookRouteOptions {
  controller: RecoveryController;
  /** Largest accepted notification, bytes. Default {@link WEBHOOK_BODY_LIMIT}. */
  bodyLimit?: number | undefined;
  metrics?: { webhookRequest(code: number): void } | undefined;
  log: { error(obj: Record<string, unknown>, msg: string): void };
}

/**
 * `POST /api/v1/alerts`, the Alertmanager webhook: the server's webhook token
 * (`webhook` auth) checked before the body is read (401 missing, 403 wrong), a body limit (413), JSON only (415), the
 * v4 schema (400 with the reason). A valid notification is recorded in one
 * transaction and answered 202 `{"status":"accepted"}` at once, whatever its size;
 * the controller decides and restarts in the background (see the decisions list).
 * 503 only when it could not be recorded or too many alerts are waiting, so
 * Alertmanager retries.
 *
 * `GET /api/v1/alerts/decisions?limit=n`: recent decisions, newest first (`api` auth:
 * the control API's token).
 */
export function registerWebhookRoutes(app: FastifyInstance, opts: WebhookRouteOptions): void {
  const { controller, log } = opts;
  const bodyLimit = opts.bodyLimit ?? WEBHOOK_BODY_LIMIT;

  app.post('/api/v1/alerts', {
    ...routeAuth('webhook'),
    bodyLimit,
    onResponse: async (_req, reply) => opts.metrics?.webhookRequest(reply.statusCode),
    errorHandler: (err: Error & { code?: string }, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'payload_too_large', `an alert notification may be at most ${bodyLimit} bytes (lower max_alerts in alertmanager.yml)`);
      throw err; // the server's error handler answers the rest
    },
  }, async (req, reply) => {
    const receivedAt = performance.now() - reply.elapsedTime;
    const parsed = parseAlertmanagerPayload(req.body);
    if (!parsed.ok) return sendError(reply, 400, 'bad_request', parsed.reason);
    let accepted: { alerts: number };
    try {
      accepted = controller.accept(parsed.payload, receivedAt);
    } catch (err) {
      if (err instanceof ControllerBusyError) {
        log.error({ err: err.message }, `recovery controller: ${err.message}; answering 503 so Alertmanager retries`);
        return sendError(reply, 503, 'busy', err.message);
      }
      log.error({ err: (err as Error).message }, 'recovery controller: could not record the alerts; answering 503 so Alertmanager retries');
      return sendError(reply, 503, 'unavailable', 'the alerts could not be recorded; retry later');
    }
    return reply.code(202).send({ status: 'accepted', alerts: accepted.alerts });
  });

  app.get<{ Querystring: { limit?: string } }>('/api/v1/alerts/decisions', routeAuth('api'), async (req, reply) => {
    const raw = req.query.limit ?? '50';
    if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) < 1) return sendError(reply, 400, 'bad_request', `limit must be a whole number from 1, got \`${raw}\``);
    return { decisions: controller.recent(Number(raw)) };
  });
}
