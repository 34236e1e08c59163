import type { FastifyInstance } from 'fastify';
import { sendError } from './createServer.js';

/** Routes answered while the supervisor starts (they read nothing that start() creates). */
const ALWAYS_OPEN = new Set(['/healthz', '/readyz']);

/**
 * The server listens before the agents start (a port in use must stop `start`
 * before any agent runs), so for a moment it is up while the supervisor's queue
 * and stores are not open yet. Until `isReady()` first returns true, every route
 * but /healthz and /readyz answers 503 `starting` with Retry-After: 1. Routes are
 * told apart by the route that matched, not by how the URL was spelt.
 */
export function gateUntilReady(app: FastifyInstance, isReady: () => boolean): void {
  let open = false;
  app.addHook('onRequest', async (req, reply) => {
    if (open) return;
    if (isReady()) {
      open = true;
      return;
    }
    if (ALWAYS_OPEN.has(req.routeOptions.url ?? '')) return;
    reply.header('retry-after', '1');
    return sendError(reply, 503, 'starting', 'the supervisor is starting its agents; retry in a moment');
  });
}
