import type { Wiring } from '../extensions.js';

/** /metrics: reserved until the telemetry layer is wired. */
export const wireMetrics: Wiring = async ({ app }) => {
  app.get('/metrics', async (_req, reply) => reply.code(503).send({ error: 'unavailable', reason: 'metrics are not enabled in this build' }));
};
