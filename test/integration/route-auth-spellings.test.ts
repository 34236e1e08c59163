import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extendSupervisor } from '../../src/cli/extensions.js';
import { controllerSettings } from '../../src/controller/controllerSettings.js';
import { startStandaloneController, type RunningController } from '../../src/controller/standaloneController.js';
import { parseConfig } from '../../src/config/loadConfig.js';
import { createServer } from '../../src/server/createServer.js';
import { ROUTE_AUTHS, type RouteAuth } from '../../src/server/routeAuth.js';
import { registerRoutes } from '../../src/server/routes.js';
import { registerAgentControlRoutes } from '../../src/server/agentControlRoutes.js';
import { registerStatsRoute } from '../../src/server/statsRoute.js';
import { registerTaskRoutes } from '../../src/server/taskRoutes.js';
import { registerUiRoutes } from '../../src/server/ui/uiRoutes.js';
import { UiSessions } from '../../src/server/ui/UiSessions.js';
import { uiSnapshot } from '../../src/server/ui/uiSnapshot.js';
import { StateDir } from '../../src/supervisor/StateDir.js';
import { Supervisor } from '../../src/supervisor/Supervisor.js';
import { LogStore } from '../../src/telemetry/LogStore.js';
import { agentStatuses } from '../../src/supervisor/statusSnapshot.js';
import { ROOT, waitFor } from '../helpers/harness.js';
import { alert, payload } from '../unit/controller/helpers.js';
import { rawRequest, requestHead } from '../helpers/rawHttp.js';

/**
 * The supervisor's real server (createServer, the control API, the stats route and
 * every wired layer: /metrics, /api/v1/health, the alert webhook) over a real
 * Supervisor running one agent, as runSupervisor composes them. Every route is
 * enumerated with an onRoute hook; a counter wraps each handler, so "the handler
 * never ran" is measured, not assumed.
 */
const API = 'a'.repeat(40);
const HOOK = 'w'.repeat(40);
const METRICS = { username: 'prometheus', password: 'p'.repeat(20) };
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

interface Route { method: string; url: string; auth: RouteAuth | undefined }

/** A concrete path for a route pattern: `:name` → the agent, `:id` → a task id. */
const concrete = (url: string) => url.replace(':name', 'w').replace(':id', 'T1');
const pct = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
const segments = (p: string) => p.split('/').slice(1);

/**
 * How an attacker might spell a path so that a prefix check misses it while a
 * router still matches (or so that the router matches something else). `raw`
 * strings go on the wire byte for byte (UTF-8 for the look-alikes).
 */
const SPELLINGS: [string, (p: string) => string][] = [
  ['%61pi: first letter percent-encoded', (p) => `/${pct(p[1] as string)}${p.slice(2)}`],
  ['first letter percent-encoded, lower-case hex', (p) => `/${pct(p[1] as string).toLowerCase()}${p.slice(2)}`],
  ['every letter percent-encoded', (p) => p.replace(/[a-z]/g, pct)],
  ['%2F before the path', (p) => `/%2F${p.slice(1)}`],
  ['%2F instead of the leading slash', (p) => `%2F${p.slice(1)}`],
  ['%2F between segments', (p) => `/${segments(p).join('%2F')}`],
  ['//api: doubled leading slash', (p) => `/${p}`],
  ['/./api', (p) => `/.${p}`],
  ['/api/../api', (p) => `/${segments(p)[0]}/..${p}`],
  ['/%2e/api', (p) => `/%2e${p}`],
  ['/api/%2e%2e/api', (p) => `/${segments(p)[0]}/%2e%2e${p}`],
  ['/API: upper case', (p) => p.toUpperCase()],
  ['mixed case', (p) => p.replace(/[a-z]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c))],
  ['trailing ;', (p) => `${p};`],
  ['trailing ;param', (p) => `${p};jsessionid=1`],
  ['trailing ?', (p) => `${p}?`],
  ['trailing #', (p) => `${p}#`],
  ['trailing #fragment', (p) => `${p}#x`],
  ['trailing /', (p) => `${p}/`],
  ['trailing %00', (p) => `${p}%00`],
  ['doubled slash inside', (p) => p.replace(/^(\/[^/]+)\//, '$1//')],
  ['backslashes', (p) => p.replaceAll('/', '\\')],
  ['fullwidth a (U+FF41), raw', (p) => p.replace('a', '\uFF41')],
  ['fullwidth a, percent-encoded', (p) => p.replace('a', '%EF%BD%81')],
  ['Cyrillic а (U+0430), raw', (p) => p.replace('a', '\u0430')],
  ['Cyrillic а, percent-encoded', (p) => p.replace('a', '%D0%B0')],
  ['Cyrillic е (U+0435) for e, raw', (p) => p.replace('e', '\u0435')],
  ['fullwidth solidus (U+FF0F)', (p) => p.replace(/\/(?=[^/]*$)/, '\uFF0F')],
  ['percent-encoded letter in the second segment', (p) => { const s = segments(p); return s.length > 1 ? `/${s[0]}/${pct((s[1] as string)[0] as string)}${(s[1] as string).slice(1)}/${s.slice(2).join('/')}`.replace(/\/$/, '') : `${p}%2F`; }],
  ['percent-encoded letter in the last segment', (p) => p.replace(/\/([a-z])([^/]*)$/, (_m, c: string, rest: string) => `/${pct(c)}${rest}`)],
  ['absolute-form request target', (p) => `http://127.0.0.1${p}`],
  ['absolute-form with %61pi', (p) => `http://127.0.0.1/${pct(p[1] as string)}${p.slice(2)}`],
];

describe('authentication is decided on the matched route, whatever the spelling of its URL', () => {
  let tmp: string;
  let sup: Supervisor;
  let app: FastifyInstance;
  let port: number;
  let close: () => Promise<void>;
  let shutdowns = 0;
  let agentPid: number | null;
  /** A live dashboard session: its cookie without its CSRF token must not change anything either. */
  const sessions = new UiSessions();
  let cookie = '';
  const routes: Route[] = [];
  const calls = new Map<string, number>();
  const totalCalls = () => [...calls.values()].reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'agentic-auth-'));
    const config = parseConfig({ background: { state_dir: path.join(tmp, 'state'), server: { port: 0 }, agents: [{ name: 'w', command: ['node', WORKER] }] } });
    const dir = new StateDir(config.background.state_dir);
    dir.ensure();
    const log = pino({ level: 'silent' });
    const logStore = new LogStore(dir.logDir, config.background.logging, 2);
    sup = new Supervisor(config, { stateDir: dir, logger: log, logStore });
    app = createServer({ bodyLimit: 1024 * 1024, apiToken: API, webhookToken: HOOK, metricsAuth: METRICS, uiSessions: sessions, logger: log });
    // Added after createServer's own onRoute hook: sees every route that got through it.
    app.addHook('onRoute', (r: RouteOptions) => {
      const key = `${String(r.method)} ${r.url}`;
      routes.push({ method: String(r.method), url: r.url as string, auth: r.config?.auth });
      calls.set(key, 0);
      const handler = r.handler;
      r.handler = function counted(this: FastifyInstance, req, reply) {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return handler.call(this, req, reply);
      };
    });
    registerRoutes(app, { sup, version: 'test', onShutdown: () => { shutdowns++; } });
    registerStatsRoute(app, sup);
    registerAgentControlRoutes(app, sup);
    registerTaskRoutes(app, sup);
    const ext = await extendSupervisor({ sup, app, config, dir, log, logStore });
    registerUiRoutes(app, { sessions, snapshot: () => uiSnapshot(sup, 'test'), onError: () => undefined });
    cookie = `agentic_ui=${sessions.redeem(sessions.issueCode().code)?.id}`;
    await sup.start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    await waitFor('the agent to run', () => agentStatuses(sup).find((a) => a.replica === 'w-0' && a.state === 'running'));
    agentPid = agentStatuses(sup).find((a) => a.replica === 'w-0')?.pid ?? null;
    close = async () => {
      await app.close();
      await sup.stop('test over');
      await ext.close();
      await logStore.close();
    };
  }, 60_000);

  afterAll(async () => {
    await close?.();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every registered route declares its authentication, and the declarations are the documented ones', () => {
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes) expect(ROUTE_AUTHS, `${r.method} ${r.url}`).toContain(r.auth);
    const expected = (r: Route): RouteAuth => {
      if (r.url === '/healthz' || r.url === '/readyz') return 'public';
      // The page itself holds no data; the login route checks its one-time code itself.
      if (r.url === '/ui' || r.url === '/ui/' || r.url === '/ui/assets/:file' || r.url === '/ui/login') return 'public';
      if (r.url === '/metrics') return 'metrics';
      if (r.url === '/api/v1/alerts' && r.method === 'POST') return 'webhook';
      return 'api';
    };
    expect(routes.map((r) => [r.method, r.url, r.auth])).toEqual(routes.map((r) => [r.method, r.url, expected(r)]));
    // the routes this test walks: the whole control API, the webhook and /metrics
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining([
      'POST /api/v1/shutdown', 'POST /api/v1/agents/:name/restart', 'POST /api/v1/agents/:name/reset', 'POST /api/v1/agents/:name/stop', 'POST /api/v1/agents/:name/start', 'POST /api/v1/agents/:name/scale', 'POST /api/v1/tasks',
      'GET /api/v1/agents', 'GET /api/v1/tasks/:id', 'POST /api/v1/tasks/:id/cancel', 'POST /api/v1/tasks/:id/retry', 'POST /api/v1/tasks/:id/priority', 'GET /api/v1/tasks/:id/logs', 'GET /api/v1/status', 'GET /api/v1/stats', 'GET /api/v1/events',
      'GET /api/v1/health', 'POST /api/v1/alerts', 'GET /api/v1/alerts/decisions', 'GET /metrics', 'HEAD /metrics',
      'GET /ui/', 'GET /ui/assets/:file', 'POST /ui/login', 'POST /api/v1/ui/codes', 'GET /api/v1/ui/session', 'POST /api/v1/ui/logout', 'GET /api/v1/ui/stream',
    ]));
  });

  it('answers 401 without a token and 403 with a wrong one (or the other route kind\'s token) on every protected route', async () => {
    for (const r of routes.filter((x) => x.auth !== 'public')) {
      const p = concrete(r.url);
      const other = r.auth === 'webhook' ? API : HOOK;
      const wrong = r.auth === 'metrics' ? [`Basic ${Buffer.from(`${METRICS.username}:nope`).toString('base64')}`, `Bearer ${API}`] : [`Bearer ${'x'.repeat(40)}`, `Bearer ${other}`, 'Basic dXNlcjpwYXNz'];
      const none = await rawRequest(port, requestHead(r.method, p));
      expect(none.status, `${r.method} ${p} without credentials`).toBe(401);
      if (r.method !== 'HEAD') expect(none.json?.error).toBe('unauthorized');
      for (const authorization of wrong) {
        const res = await rawRequest(port, requestHead(r.method, p, { authorization }));
        expect(res.status, `${r.method} ${p} with ${authorization.slice(0, 12)}…`).toBe(r.auth === 'metrics' ? 401 : 403);
      }
    }
    expect(totalCalls()).toBe(0);
  });

  it('never runs a protected handler for any spelling, over a real socket and through inject', async () => {
    const seen = new Map<number, number>();
    let checked = 0;
    for (const r of routes.filter((x) => x.auth !== 'public')) {
      for (const [name, spell] of SPELLINGS) {
        const target = spell(concrete(r.url));
        const body = r.method === 'POST' ? '{}' : '';
        const headers: Record<string, string> = r.method === 'POST' ? { 'content-type': 'application/json' } : {};
        const wire = await rawRequest(port, requestHead(r.method, target, headers), body);
        const what = `${r.method} ${JSON.stringify(target)} (${name}) over a socket`;
        expect([400, 401, 403, 404], what).toContain(wire.status);
        // 400 only where Node's HTTP parser refuses the request line (raw non-ASCII, backslashes, %2F
        // without a leading slash), never a route's validation (which would mean auth was passed).
        if (wire.status === 400) expect(wire.json, what).toEqual({ error: 'bad_request', reason: 'malformed HTTP request' });
        if (r.method !== 'HEAD') expect(wire.json?.error, `${what}: ${wire.body}`).toEqual(expect.any(String));
        expect(wire.headers['content-type'] ?? '', what).toMatch(/^application\/json/);
        expect(totalCalls(), `${what} ran a handler`).toBe(0);
        seen.set(wire.status, (seen.get(wire.status) ?? 0) + 1);

        let injected;
        try {
          injected = await app.inject({ method: r.method as 'GET', url: target, payload: body || undefined, headers });
        } catch {
          continue; // light-my-request refuses some targets (e.g. non-ASCII) before any server code runs
        }
        expect([400, 401, 403, 404], `${r.method} ${target} (${name}) through inject`).toContain(injected.statusCode);
        expect(totalCalls(), `${r.method} ${target} (${name}) through inject ran a handler`).toBe(0);
        checked++;
      }
    }
    // The table exercised the routes themselves, not only the 404 handler.
    expect(seen.get(401) ?? 0).toBeGreaterThan(routes.length);
    expect(checked).toBeGreaterThan(routes.length * 10);
    expect(shutdowns).toBe(0);
    expect(await sup.queue.list({ limit: 10 })).toEqual([]);
    const w = agentStatuses(sup).find((a) => a.replica === 'w-0');
    expect(w).toMatchObject({ state: 'running', restarts: 0, pid: agentPid });
    expect(await app.inject({ method: 'GET', url: '/healthz' }).then((x) => x.statusCode)).toBe(200);
  }, 120_000);

  it('runs the handler once the right token is presented, even on the %61pi spelling (the same route)', async () => {
    const res = await rawRequest(port, requestHead('GET', '/%61pi/v1/agents', { authorization: `Bearer ${API}` }));
    expect(res.status).toBe(200);
    expect(calls.get('GET /api/v1/agents')).toBe(1);
  });

  it('never runs a state-changing API handler for a dashboard cookie without its CSRF token, whatever the spelling', async () => {
    const before = totalCalls();
    for (const r of routes.filter((x) => x.auth === 'api' && x.method === 'POST')) {
      for (const [name, spell] of SPELLINGS) {
        const target = spell(concrete(r.url));
        const res = await rawRequest(port, requestHead('POST', target, { 'content-type': 'application/json', cookie, origin: `http://127.0.0.1:${port}` }), '{}');
        expect([400, 403, 404], `POST ${JSON.stringify(target)} (${name}) with the cookie only`).toContain(res.status);
      }
    }
    expect(totalCalls()).toBe(before);
    expect(shutdowns).toBe(0);
    // The same cookie reads (GET needs no CSRF token): the refusals above were the CSRF defence.
    const read = await rawRequest(port, requestHead('GET', '/api/v1/agents', { cookie }));
    expect(read.status).toBe(200);
  });

  it('answers 404 for an unknown URL with a reason that quotes at most a short excerpt of it', async () => {
    const long = `/api/v1/${'x'.repeat(5000)}`;
    const res = await rawRequest(port, requestHead('GET', long));
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ error: 'not_found' });
    expect(String(res.json?.reason).length).toBeLessThan(120);
    expect(res.body).not.toContain('x'.repeat(200));
  });
});

describe('the standalone controller (background controller) decides authentication on the matched route too', () => {
  let tmp: string;
  let ctl: RunningController;
  let port: number;
  const token = 't'.repeat(40);

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'agentic-auth-ctl-'));
    const tokenFile = path.join(tmp, 'webhook.token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const apiTokenFile = path.join(tmp, 'api.token');
    writeFileSync(apiTokenFile, `${'s'.repeat(40)}\n`, { mode: 0o600 });
    ctl = await startStandaloneController({
      host: '127.0.0.1', port: 0, supervisors: [{ url: 'http://127.0.0.1:9', tokenFile: apiTokenFile }], instanceMap: new Map(),
      stateDir: path.join(tmp, 'state'), tokenFile, settings: controllerSettings(), log: pino({ level: 'silent' }),
    });
    port = Number(new URL(ctl.url).port);
  });
  afterAll(async () => {
    await ctl?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('answers every spelling of its webhook and decisions routes with 400/401/404 and records no decision', async () => {
    const body = JSON.stringify(payload(alert({ labels: { instance: 'nowhere:1' } })));
    for (const [method, p] of [['POST', '/api/v1/alerts'], ['GET', '/api/v1/alerts/decisions']] as const) {
      for (const [name, spell] of SPELLINGS) {
        const target = spell(p);
        const res = await rawRequest(port, requestHead(method, target, method === 'POST' ? { 'content-type': 'application/json' } : {}), method === 'POST' ? body : '');
        const what = `${method} ${JSON.stringify(target)} (${name})`;
        expect([400, 401, 404], what).toContain(res.status);
        if (res.status === 400) expect(res.json, what).toEqual({ error: 'bad_request', reason: 'malformed HTTP request' });
      }
    }
    const decisions = await rawRequest(port, requestHead('GET', '/api/v1/alerts/decisions', { authorization: `Bearer ${token}` }));
    expect(decisions.status).toBe(200);
    expect(decisions.json).toEqual({ decisions: [] });
    // The same request with the token is acted on: the handler is reachable, so the refusals above were the auth.
    const sent = await rawRequest(port, requestHead('POST', '/%61pi/v1/alerts', { 'content-type': 'application/json', authorization: `Bearer ${token}` }), body);
    expect(sent.status).toBe(202);
    await waitFor('the decision to be recorded', async () => ((await rawRequest(port, requestHead('GET', '/api/v1/alerts/decisions', { authorization: `Bearer ${token}` }))).json as { decisions?: unknown[] }).decisions?.length === 1);
  });
});
