import type { FastifyInstance, RouteOptions } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type ServerOptions } from '../../../src/server/createServer.js';
import { RouteAuthError, routeAuth } from '../../../src/server/routeAuth.js';

const API = 'a'.repeat(32);
const HOOK = 'w'.repeat(32);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('every route declares its authentication when it is registered', () => {
  let app: FastifyInstance | undefined;
  const errors: string[] = [];
  const make = (over: Partial<ServerOptions> = {}) => {
    const log = pino({ level: 'silent' });
    log.error = ((_o: unknown, m: string) => { errors.push(m); }) as typeof log.error;
    app = createServer({ bodyLimit: 1024, apiToken: API, logger: log, ...over });
    return app;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    errors.length = 0;
  });

  it('refuses to register a route without a declaration, naming the route', () => {
    const s = make();
    expect(() => s.get('/api/v1/new', async () => ({ secret: true }))).toThrow(RouteAuthError);
    expect(() => s.post('/anything', async () => ({}))).toThrow(/route POST \/anything declares no authentication/);
    expect(() => s.route({ method: ['GET', 'POST'], url: '/both', handler: async () => ({}) })).toThrow(RouteAuthError);
  });

  it('refuses a declaration that is not one of the known kinds', () => {
    const s = make();
    expect(() => s.get('/x', { config: { auth: 'none' as never } }, async () => ({}))).toThrow(/got "none"/);
    expect(() => s.get('/y', { config: {} }, async () => ({}))).toThrow(/got undefined/);
  });

  it('refuses a webhook route on a server that has no webhook token', () => {
    const s = make();
    expect(() => s.post('/api/v1/alerts', routeAuth('webhook'), async () => ({}))).toThrow(/needs the webhook token/);
  });

  it('refuses an undeclared route registered inside a plugin: the server does not start', async () => {
    const s = make();
    s.register(async (child) => { child.get('/plugin-route', async () => ({})); });
    await expect(s.ready()).rejects.toThrow(RouteAuthError);
  });

  it('refuses requests with 500 should an undeclared route get past registration, and runs no handler', async () => {
    const s = make();
    // A later onRoute hook that strips the declaration stands for a route that slipped through.
    s.addHook('onRoute', (r: RouteOptions) => { if (r.url === '/slipped') delete (r.config as { auth?: unknown }).auth; });
    let ran = 0;
    s.get('/slipped', { ...routeAuth('public'), exposeHeadRoute: false }, async () => { ran++; return { ok: true }; });
    const res = await s.inject({ method: 'GET', url: '/slipped' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal_error', reason: 'this route declares no authentication, so it is refused' });
    expect(ran).toBe(0);
    expect(errors[0]).toMatch(/GET \/slipped: the route declares no authentication/);
  });

  it('public routes answer anyone; api routes want the API token; webhook routes want the webhook token', async () => {
    const s = make({ webhookToken: HOOK });
    s.get('/open', routeAuth('public'), async () => ({ ok: 'open' }));
    s.get('/api', routeAuth('api'), async () => ({ ok: 'api' }));
    s.post('/hook', routeAuth('webhook'), async () => ({ ok: 'hook' }));
    const call = async (method: 'GET' | 'POST', url: string, token?: string) => {
      const res = await s.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });
      return [res.statusCode, res.json()];
    };
    expect(await call('GET', '/open')).toEqual([200, { ok: 'open' }]);
    expect(await call('GET', '/api')).toEqual([401, { error: 'unauthorized', reason: 'send Authorization: Bearer <token>' }]);
    expect(await call('GET', '/api', HOOK)).toEqual([403, { error: 'forbidden', reason: 'the bearer token does not match' }]);
    expect(await call('GET', '/api', API)).toEqual([200, { ok: 'api' }]);
    expect(await call('POST', '/hook')).toMatchObject([401, { error: 'unauthorized' }]);
    expect(await call('POST', '/hook', API)).toMatchObject([403, { error: 'forbidden' }]);
    expect(await call('POST', '/hook', HOOK)).toEqual([200, { ok: 'hook' }]);
  });

  it('checks the token before the body is read: a refused request never parses its body', async () => {
    const s = make();
    let ran = 0;
    s.post('/api', routeAuth('api'), async () => { ran++; return {}; });
    const res = await s.inject({ method: 'POST', url: '/api', payload: '{not json', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(401); // not 400 "malformed JSON"
    expect(ran).toBe(0);
  });
});

describe('metrics routes: open, or HTTP basic auth when metrics_auth is set', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => { await app?.close(); app = undefined; });
  const make = (metricsAuth?: { username: string; password: string }) => {
    app = createServer({ bodyLimit: 1024, apiToken: API, metricsAuth, logger: pino({ level: 'silent' }) });
    app.get('/metrics', { config: { auth: 'metrics' } }, async () => 'up 1\n');
    return app;
  };

  it('is open without metrics_auth', async () => {
    expect((await make().inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it.each([
    ['no credentials', 401, undefined],
    ['a wrong password', 401, basic('prometheus', 'wrong-password-000')],
    ['a wrong user', 401, basic('grafana', 'the-right-password-1')],
    ['a password with the user missing', 401, basic('', 'the-right-password-1')],
    ['the right password with a trailing colon', 401, basic('prometheus', 'the-right-password-1:')],
    ['a bearer token', 401, `Bearer ${API}`],
    ['malformed base64', 401, 'Basic !!!'],
    ['the right credentials', 200, basic('prometheus', 'the-right-password-1')],
    ['the right credentials, scheme in lower case', 200, basic('prometheus', 'the-right-password-1').replace('Basic', 'basic')],
  ])('answers %s with %i', async (_n, code, authorization) => {
    const s = make({ username: 'prometheus', password: 'the-right-password-1' });
    const res = await s.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
    expect(res.statusCode).toBe(code);
    if (code === 401) {
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="agentic-supervisor"/);
      expect(res.json()).toMatchObject({ error: 'unauthorized' });
    } else {
      expect(res.body).toBe('up 1\n');
    }
  });

  it('holds for the spelling of the path too: /%6detrics is the same route and wants the same credentials', async () => {
    const s = make({ username: 'prometheus', password: 'the-right-password-1' });
    expect((await s.inject({ method: 'GET', url: '/%6detrics' })).statusCode).toBe(401);
    expect((await s.inject({ method: 'GET', url: '/%6detrics', headers: { authorization: basic('prometheus', 'the-right-password-1') } })).statusCode).toBe(200);
  });
});
