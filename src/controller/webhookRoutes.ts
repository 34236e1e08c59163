import type { FastifyInstance } from 'fastify';
import { sendError } from '../server/createServer.js';
import { routeAuth } from '../server/routeAuth.js';
import { parseAlertmanagerPayload } from './alertmanagerPayload.js';
import type { AlertDecision } from './DecisionStore.js';
import type { RecoveryController } from './RecoveryController.js';

/** Default body limit of the webhook: 512 KiB (the generated config caps a notification at 64 alerts). */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;

export interface WebhookRouteOptions {
  controller: RecoveryController;
  /** Largest accepted notification, bytes. Default {@link WEBHOOK_BODY_LIMIT}. */
  bodyLimit?: number | undefined;
  /** How long the webhook waits for its decisions before answering anyway, ms. Default 250. */
  ackWithinMs?: number | undefined;
  metrics?: { webhookRequest(code: number): void } | undefined;
  log: { error(obj: Record<string, unknown>, msg: string): void };
}

const brief = (d: AlertDecision) => ({ id: d.id, alertname: d.alertname, target: d.target, supervisor: d.supervisor, result: d.result, reason: d.reason });

/**
 * `POST /api/v1/alerts`, the Alertmanager webhook: the server's webhook token
 * (`webhook` auth) checked before the body is read (401 missing, 403 wrong), a
 * body limit (413), JSON only (415), the v4 schema (400 with the reason). It answers 200 as soon as the decisions are made
 * (or after `ackWithinMs`, while they finish); restarts run in the background.
 * 503 only when the decisions could not be recorded, so Alertmanager retries.
 *
 * `GET /api/v1/alerts/decisions?limit=n`: recent decisions, newest first (`api` auth:
 * the control API's token).
 */
export function registerWebhookRoutes(app: FastifyInstance, opts: WebhookRouteOptions): void {
  const { controller, log } = opts;
  const bodyLimit = opts.bodyLimit ?? WEBHOOK_BODY_LIMIT;
  const ackWithinMs = opts.ackWithinMs ?? 250;

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
    const work = controller.handle(parsed.payload, receivedAt);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      work.then((decisions) => ({ decisions }), (err: unknown) => ({ err: err as Error })),
      new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ackWithinMs); }),
    ]);
    clearTimeout(timer);
    if (!outcome) {
      work.catch((err: unknown) => log.error({ err: (err as Error).message }, 'recovery controller: could not record alert decisions'));
      return reply.code(200).send({ status: 'accepted', alerts: parsed.payload.alerts.length });
    }
    if ('err' in outcome) {
      log.error({ err: outcome.err.message }, 'recovery controller: could not record alert decisions; answering 503 so Alertmanager retries');
      return sendError(reply, 503, 'unavailable', 'the decision could not be recorded; retry later');
    }
    return reply.code(200).send({ status: 'ok', decisions: outcome.decisions.map(brief) });
  });

  app.get<{ Querystring: { limit?: string } }>('/api/v1/alerts/decisions', routeAuth('api'), async (req, reply) => {
    const raw = req.query.limit ?? '50';
    if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) < 1) return sendError(reply, 400, 'bad_request', `limit must be a whole number from 1, got \`${raw}\``);
    return { decisions: controller.recent(Number(raw)) };
  });
}
