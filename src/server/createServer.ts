import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DiskFullError } from '../store/DiskFullError.js';
import type { Logger } from '../telemetry/logger.js';
import { checkBearer, tokenMatches } from './auth.js';

export interface ServerOptions {
  bodyLimit: number;
  apiToken: string;
  logger: Logger;
  /** Optional basic auth for /metrics. */
  metricsAuth?: { username: string; password: string } | undefined;
}

/** A JSON error body: `{ error, reason? }`. */
export function sendError(reply: FastifyReply, status: number, error: string, reason?: string): FastifyReply {
  return reply.code(status).type('application/json').send(reason ? { error, reason } : { error });
}

/**
 * The supervisor's HTTP server: body limits, JSON-only bodies, schema validation
 * and one error path that always answers JSON. /api/v1/* requires the bearer
 * token (401 when missing, 403 when wrong, without detail).
 */
export function createServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    logger: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  // JSON only: a text/plain body is refused with 415 instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.url;
    if (url.startsWith('/api/')) {
      if (url.startsWith('/api/v1/alerts')) return; // the webhook route checks its own token
      const r = checkBearer(req.headers.authorization, opts.apiToken);
      if (r === 'missing') return sendError(reply, 401, 'unauthorized');
      if (r === 'invalid') return sendError(reply, 403, 'forbidden');
    } else if (url === '/metrics' || url.startsWith('/metrics?')) {
      if (!opts.metricsAuth) return;
      const h = req.headers.authorization ?? '';
      const m = /^Basic\s+(\S+)$/i.exec(h);
      const [user, pass] = m ? Buffer.from(m[1] as string, 'base64').toString('utf8').split(/:(.*)/s) : [];
      if (!m || user === undefined || pass === undefined || !tokenMatches(user, opts.metricsAuth.username) || !tokenMatches(pass, opts.metricsAuth.password)) {
        reply.header('www-authenticate', 'Basic realm="agentic-supervisor"');
        return sendError(reply, 401, 'unauthorized');
      }
    }
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation) return sendError(reply, 400, 'bad_request', err.message);
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, 'payload_too_large', `body over ${opts.bodyLimit} bytes`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, 'unsupported_media_type', 'send Content-Type: application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, 'bad_request', 'empty JSON body');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, 'bad_request', `malformed JSON: ${err.message}`);
      default:
        break;
    }
    if (err instanceof SyntaxError || err.statusCode === 400) return sendError(reply, 400, 'bad_request', err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendError(reply, err.statusCode, 'bad_request', err.message);
    // Nothing was stored: the caller may submit again once there is room.
    if (err instanceof DiskFullError) return sendError(reply.header('retry-after', '30'), 507, 'disk_full', err.message);
    opts.logger.error({ err: err.message, stack: err.stack }, 'HTTP handler failed');
    return sendError(reply, 500, 'internal_error');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
  return app;
}
