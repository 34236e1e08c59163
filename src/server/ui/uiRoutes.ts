import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../createServer.js';
import { routeAuth } from '../routeAuth.js';
import { LiveHub } from './LiveHub.js';
import { CSRF_HEADER, UI_COOKIE, cookieValue, sameOrigin } from './sessionAuth.js';
import { loadUiAssets, type UiAsset } from './uiAssets.js';
import type { UiSessions } from './UiSessions.js';

/** The page's security headers: nothing inline, nothing from elsewhere, never framed. */
export const UI_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
} as const;

export interface UiRouteDeps {
  sessions: UiSessions;
  /** The snapshot pushed to open pages: `{ status, health }` as GET /api/v1/status and /api/v1/health answer them. */
  snapshot: () => unknown;  // or a promise of it
  onError: (err: Error) => void;
  /** Most pages with a live stream at once. Default 20. */
  maxLiveClients?: number;
  /** Snapshot interval of the live stream, ms. Default 1000. */
  liveIntervalMs?: number;
  /** The built page; default dist/ui of this package. */
  assets?: Map<string, UiAsset>;
}

const CODE = '^[A-Za-z0-9_-]{20,100}$';

function serve(req: FastifyRequest, reply: FastifyReply, asset: UiAsset | undefined): FastifyReply {
  if (!asset) return sendError(reply, 404, 'not_found', 'no such file in the web dashboard');
  reply.headers(UI_HEADERS).header('cache-control', 'no-cache').header('etag', asset.etag);
  if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/**
 * The web dashboard (see docs/operations.md, "Web dashboard"):
 * - GET /ui/ and /ui/assets/:file (public: the page holds no data, every figure comes from the API);
 * - POST /ui/login `{code}` (public, same-origin): a one-time code from POST /api/v1/ui/codes
 *   becomes an HttpOnly, SameSite=Strict session cookie scoped to /api/v1/, and the CSRF token;
 * - POST /api/v1/ui/codes (API token only): a login code, as `background ui` prints it;
 * - GET /api/v1/ui/session: the CSRF token of the cookie's session (after a reload);
 * - POST /api/v1/ui/logout: ends the session;
 * - GET /api/v1/ui/stream: server-sent events, `event: snapshot` with `{status, health}`.
 */
export function registerUiRoutes(app: FastifyInstance, deps: UiRouteDeps): LiveHub {
  const assets = deps.assets ?? loadUiAssets();
  const hub = new LiveHub({ snapshot: deps.snapshot, onError: deps.onError, maxClients: deps.maxLiveClients, intervalMs: deps.liveIntervalMs });
  app.addHook('preClose', async () => hub.close());

  app.get('/ui', routeAuth('public'), async (_req, reply) => reply.headers(UI_HEADERS).redirect('/ui/', 302));
  app.get('/ui/', routeAuth('public'), async (req, reply) => {
    if (!assets.has('index.html')) return sendError(reply, 503, 'ui_not_built', 'the web dashboard was not built: run npm run build');
    return serve(req, reply.header('cache-control', 'no-store'), assets.get('index.html'));
  });
  app.get<{ Params: { file: string } }>('/ui/assets/:file', routeAuth('public'), async (req, reply) => serve(req, reply, assets.get(`assets/${req.params.file}`)));

  app.post<{ Body: { code: string } }>('/ui/login', {
    ...routeAuth('public'),
    schema: { body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', pattern: CODE } } } },
  }, async (req, reply) => {
    if (!sameOrigin(req)) return sendError(reply, 403, 'cross_site', 'log in from the dashboard page itself (same Origin)');
    const s = deps.sessions.redeem(req.body.code);
    if (!s) return sendError(reply, 401, 'invalid_code', 'this login code is unknown, already used or expired: run `background ui` for a new one');
    const maxAge = Math.max(1, Math.round((s.expiresAt - Date.now()) / 1000));
    reply.header('set-cookie', `${UI_COOKIE}=${s.id}; Path=/api/v1/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`).header('cache-control', 'no-store');
    return { csrf: s.csrf, csrf_header: CSRF_HEADER, expires_at: new Date(s.expiresAt).toISOString() };
  });

  app.post('/api/v1/ui/codes', routeAuth('api'), async (req, reply) => {
    if (!req.headers.authorization) return sendError(reply, 403, 'token_required', 'login codes are issued for the API token only (background ui)');
    const c = deps.sessions.issueCode();
    return reply.code(201).header('cache-control', 'no-store').send({ code: c.code, path: `/ui/#login=${c.code}`, expires_at: new Date(c.expiresAt).toISOString() });
  });

  app.get('/api/v1/ui/session', routeAuth('api'), async (req, reply) => {
    const s = deps.sessions.session(cookieValue(req.headers.cookie, UI_COOKIE));
    if (!s || req.headers.authorization) return sendError(reply, 404, 'no_session', 'no dashboard session: this request was authenticated by the API token');
    return reply.header('cache-control', 'no-store').send({ csrf: s.csrf, csrf_header: CSRF_HEADER, expires_at: new Date(s.expiresAt).toISOString() });
  });

  app.post('/api/v1/ui/logout', routeAuth('api'), async (req, reply) => {
    const id = cookieValue(req.headers.cookie, UI_COOKIE);
    if (id) deps.sessions.end(id);
    return reply.header('set-cookie', `${UI_COOKIE}=; Path=/api/v1/; HttpOnly; SameSite=Strict; Max-Age=0`).send({ logged_out: true });
  });

  app.get('/api/v1/ui/stream', routeAuth('api'), async (_req, reply) => {
    if (hub.full) {
      return sendError(reply.header('retry-after', '10'), 429, 'too_many_live_pages', `${hub.maxClients} dashboard pages are already following this supervisor live (the most it serves): close one, or poll GET /api/v1/status`);
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    hub.add(reply.raw);
  });
  return hub;
}
