import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { isTransientPgError } from '../queue/pg/transientPgError.js';
import { DiskFullError } from '../store/DiskFullError.js';
import type { Logger } from '../telemetry/logger.js';
import { clientErrorHandler, frameworkErrors, pathExcerpt } from './frameworkErrors.js';
import { enforceRouteAuth, type AuthSecrets } from './routeAuth.js';

/** Longest path parameter the router accepts, characters (longer: 414). */
const MAX_PARAM_LENGTH = 200;

export interface ServerOptions extends AuthSecrets {
  bodyLimit: number;
  logger: Logger;
}

/** A JSON error body: `{ error, reason? }`. */
export function sendError(reply: FastifyReply, status: number, error: string, reason?: string): FastifyReply {
  return reply.code(status).type('application/json').send(reason ? { error, reason } : { error });
}

/**
 * The supervisor's HTTP server: body limits, JSON-only bodies, schema validation
 * and one error path that always answers JSON, Fastify's and Node's own refusals
 * included. Every route declares its authentication (`routeAuth(...)` in its
 * options, see routeAuth.ts), enforced on the matched route: bearer tokens answer
 * 401 when missing, 403 when wrong; registering a route without a declaration throws.
 */
export function createServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    logger: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrors(sendError, MAX_PARAM_LENGTH),
    clientErrorHandler,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  // JSON only: a text/plain body is refused with 415 instead of reaching a handler as a string.
  app.removeContentTypeParser('text/plain');

  enforceRouteAuth(app, opts, sendError, (route) => opts.logger.error({ route }, `refused a request to ${route}: the route declares no authentication`));

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
    // The fleet's PostgreSQL is unreachable: nothing was changed; the caller may try again.
    if (isTransientPgError(err)) return sendError(reply.header('retry-after', '5'), 503, 'queue_unavailable', `the task queue's database cannot be reached: ${err.message}`);
    opts.logger.error({ err: err.message, stack: err.stack }, 'HTTP handler failed');
    return sendError(reply, 500, 'internal_error');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${pathExcerpt(req.url)}`));
  return app;
}
