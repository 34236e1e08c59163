import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { checkBasic, checkBearer } from './auth.js';
import { sessionAuth } from './ui/sessionAuth.js';
import type { UiSessions } from './ui/UiSessions.js';

/**
 * Who may call a route, declared where the route is registered
 * (`app.get(url, routeAuth('api'), handler)`) and enforced on the route that
 * matched, never on how its URL was spelled:
 * - `public`: anyone (`/healthz`, `/readyz`);
 * - `metrics`: anyone, unless `background.server.metrics_auth` is set: then HTTP
 *   basic auth (`/metrics`);
 * - `api`: the control API's bearer token (`api.token`), or a web dashboard
 *   session cookie (plus its CSRF token and a same-origin Origin on state changes,
 *   see ui/sessionAuth.ts) when the server has {@link AuthSecrets.uiSessions};
 * - `webhook`: the Alertmanager webhook's bearer token (`webhook.token`).
 */
export type RouteAuth = 'public' | 'metrics' | 'api' | 'webhook';

export const ROUTE_AUTHS: readonly RouteAuth[] = ['public', 'metrics', 'api', 'webhook'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route; every route must say (see {@link RouteAuth}). */
    auth?: RouteAuth;
  }
}

/** The route option that declares a route's authentication: `app.post(url, { ...routeAuth('api'), schema }, h)`. */
export const routeAuth = (auth: RouteAuth) => ({ config: { auth } }) as const;

/** A route registered without an authentication decision, or with one the server cannot enforce. */
export class RouteAuthError extends Error {
  readonly code = 'ROUTE_AUTH_UNDECLARED';
  constructor(message: string) {
    super(message);
    this.name = 'RouteAuthError';
  }
}

export interface AuthSecrets {
  /** Bearer token of the control API. */
  apiToken: string;
  /** Bearer token of the webhook; routes declaring `webhook` cannot be registered without it. */
  webhookToken?: string | undefined;
  /** Basic-auth credentials of `metrics` routes; without them those routes are open. */
  metricsAuth?: { username: string; password: string } | undefined;
  /** The web dashboard's sessions: `api` routes also accept their cookie. */
  uiSessions?: UiSessions | undefined;
}

type Deny = (reply: FastifyReply, status: number, error: string, reason: string) => FastifyReply;

/**
 * Enforces {@link RouteAuth} on `app`. Registration of a route without a valid
 * declaration throws {@link RouteAuthError} (an `onRoute` hook), so such a route
 * never ships; should one get through anyway, its requests are refused with 500.
 * The check runs in `onRequest`, before the body is read, on
 * `request.routeOptions.config`: the route the router matched, whatever the
 * spelling of the URL. Unknown URLs go on to the not-found handler.
 */
export function enforceRouteAuth(app: FastifyInstance, secrets: AuthSecrets, deny: Deny, onUndeclared: (route: string) => void): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const auth: unknown = route.config?.auth;
    const where = `${String(route.method)} ${route.url}`;
    if (!ROUTE_AUTHS.includes(auth as RouteAuth)) {
      throw new RouteAuthError(`route ${where} declares no authentication (got ${JSON.stringify(auth)}): register it with routeAuth(${ROUTE_AUTHS.map((a) => `'${a}'`).join(' | ')})`);
    }
    if (auth === 'webhook' && !secrets.webhookToken) throw new RouteAuthError(`route ${where} needs the webhook token, and this server was created without one`);
  });

  const bearer = (req: FastifyRequest, reply: FastifyReply, token: string) => {
    const r = checkBearer(req.headers.authorization, token);
    if (r === 'missing') return deny(reply, 401, 'unauthorized', 'send Authorization: Bearer <token>');
    if (r === 'invalid') return deny(reply, 403, 'forbidden', 'the bearer token does not match');
    return undefined;
  };

  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return undefined; // the not-found handler answers
    const auth = req.routeOptions.config.auth;
    switch (auth) {
      case 'public':
        return undefined;
      case 'metrics': {
        if (!secrets.metricsAuth || checkBasic(req.headers.authorization, secrets.metricsAuth)) return undefined;
        reply.header('www-authenticate', 'Basic realm="agentic-supervisor", charset="UTF-8"');
        return deny(reply, 401, 'unauthorized', 'send HTTP basic auth (background.server.metrics_auth)');
      }
      case 'api':
        if (!req.headers.authorization && secrets.uiSessions) return sessionAuth(req, reply, secrets.uiSessions, deny);
        return bearer(req, reply, secrets.apiToken);
      case 'webhook':
        if (secrets.webhookToken) return bearer(req, reply, secrets.webhookToken);
        break;
      default:
        break;
    }
    onUndeclared(`${req.method} ${req.routeOptions.url ?? '?'}`);
    return deny(reply, 500, 'internal_error', 'this route declares no authentication, so it is refused');
  });
}
