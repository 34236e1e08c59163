import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { registerWebhookRoutes } from '../../../src/controller/webhookRoutes.js';
import { createServer } from '../../../src/server/createServer.js';
import { alert, payload, rig } from './helpers.js';

const HOOK = 'w'.repeat(64);
const API = 'a'.repeat(64);

function app(opts: { bodyLimit?: number; cooldown?: number } = {}) {
  const r = rig({ cooldown: opts.cooldown });
  const codes: number[] = [];
  const errors: string[] = [];
  const log = pino({ level: 'silent' });
  const server = createServer({ bodyLimit: 1024 * 1024, apiToken: API, webhookToken: HOOK, logger: log });
  registerWebhookRoutes(server, { controller: r.controller, bodyLimit: opts.bodyLimit, metrics: { webhookRequest: (c) => codes.push(c) }, log: { error: (_o, m) => errors.push(m) } });
  return { server, r, codes, errors };
}

const post = (s: ReturnType<typeof app>['server'], body: string, headers: Record<string, string> = {}) =>
  s.inject({ method: 'POST', url: '/api/v1/alerts', payload: body, headers: { authorization: `Bearer ${HOOK}`, 'content-type': 'application/json', ...headers } });

describe('POST /api/v1/alerts', () => {
  let current: ReturnType<typeof app> | undefined;
  afterEach(async () => { await current?.server.close(); current = undefined; });

  it('answers 202 accepted at once, decides in the background, and counts the request', async () => {
    current = app();
    const res = await post(current.server, JSON.stringify(payload(alert())));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', alerts: 1 });
    await current.r.controller.idle();
    expect(current.r.controller.recent()).toMatchObject([{ result: 'acted', target: 'qaa-0', alertname: 'AgentUnresponsive' }]);
    expect(current.r.port.restarts).toHaveLength(1);
    expect(current.codes).toEqual([202]);
  });

  it('accepts a notification of 1,000 alerts without deciding them first, then decides every one', async () => {
    current = app({ cooldown: 300 });
    let inspected = 0;
    const inspect = current.r.port.inspect.bind(current.r.port);
    current.r.port.inspect = (labels) => { inspected++; return inspect(labels); };
    const many = payload(...Array.from({ length: 1000 }, (_, i) => alert({ fingerprint: `f${i}`, labels: { replica: String(i % 2) } })));
    const res = await post(current.server, JSON.stringify(many));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', alerts: 1000 });
    expect(inspected).toBeLessThan(1000); // answered before the decisions were made
    await current.r.controller.idle();
    const decided = current.r.controller.recent(1000);
    expect(decided).toHaveLength(1000);
    expect(decided.filter((d) => d.result === 'acted')).toHaveLength(2); // qaa-0 and qaa-1; the rest are inside the cooldown
    expect(current.r.port.restarts).toHaveLength(2);
  });

  it('logs and counts a failure while deciding in the background, and rejects nothing into the void', async () => {
    current = app();
    const { r } = current;
    r.port.inspect = async () => { r.db.close(); throw new Error('inspect failed'); };
    const res = await post(current.server, JSON.stringify(payload(alert())));
    expect(res.statusCode).toBe(202);
    await r.controller.idle();
    expect(current.errors.concat(r.logs.map((l) => l.msg)).join('\n')).toMatch(/could not decide 1 alert.*database/i);
    expect(r.metrics.actions).toContain('failed');
  });

  it.each([
    ['no token', { authorization: '' }, 401, 'unauthorized'],
    ['a wrong token', { authorization: `Bearer ${'x'.repeat(64)}` }, 403, 'forbidden'],
    ['the control-API token instead of the webhook token', { authorization: `Bearer ${API}` }, 403, 'forbidden'],
    ['a basic-auth header', { authorization: 'Basic dXNlcjpwYXNz' }, 403, 'forbidden'],
  ])('refuses %s before reading the body', async (_n, headers, code, error) => {
    current = app();
    const res = await post(current.server, JSON.stringify(payload(alert())), headers);
    expect(res.statusCode).toBe(code);
    expect(res.json()).toMatchObject({ error });
    expect(current.r.controller.recent()).toEqual([]);
    expect(current.codes).toEqual([code]);
  });

  it('answers 413 for a body over the limit, naming the limit, and decides nothing', async () => {
    current = app({ bodyLimit: 4096 });
    const big = payload(...Array.from({ length: 40 }, (_, i) => alert({ fingerprint: `f${i}` })));
    const res = await post(current.server, JSON.stringify(big));
    expect(res.statusCode).toBe(413);
    expect(res.json().reason).toMatch(/at most 4096 bytes/);
    expect(current.r.controller.recent()).toEqual([]);
  });

  it.each([
    ['malformed JSON', '{"version": "4", ', {}, 400, /malformed JSON/],
    ['another schema', JSON.stringify({ text: 'hello' }), {}, 400, /not an Alertmanager webhook v4 payload: version:/],
    ['a text/plain body', 'hello', { 'content-type': 'text/plain' }, 415, /application\/json/],
  ])('answers %s with %i and a JSON reason, and decides nothing', async (_n, body, headers, code, reason) => {
    current = app();
    const res = await post(current.server, body, headers);
    expect(res.statusCode).toBe(code);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json().reason).toMatch(reason);
    expect(current.r.controller.recent()).toEqual([]);
    expect(current.codes).toEqual([code]);
  });

  it('answers 503 busy while 10,000 alerts wait to be decided, so Alertmanager retries later', async () => {
    current = app();
    current.r.controller.stop();
    for (let b = 0; b < 10; b++) current.r.controller.accept(payload(...Array.from({ length: 1000 }, (_, i) => alert({ fingerprint: `b${b}-${i}` }))));
    const res = await post(current.server, JSON.stringify(payload(alert({ fingerprint: 'late' }))));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'busy', reason: '10000 alerts are waiting to be decided and this notification has 1, over the limit of 10000: retry later' });
    expect(current.codes).toEqual([503]);
  });

  it('answers 503 when the decision cannot be recorded, so Alertmanager retries', async () => {
    current = app();
    current.r.db.close();
    const res = await post(current.server, JSON.stringify(payload(alert())));
    expect(res.statusCode).toBe(503);
    expect(current.errors[0]).toMatch(/answering 503 so Alertmanager retries/);
  });
});

describe('GET /api/v1/alerts/decisions', () => {
  it('lists decisions newest first for the control-API token only', async () => {
    const { server, r } = app();
    await post(server, JSON.stringify(payload(alert(), alert({ fingerprint: 'z', labels: { action: 'none' } }))));
    await r.controller.idle();
    expect((await server.inject({ url: '/api/v1/alerts/decisions' })).statusCode).toBe(401);
    expect((await server.inject({ url: '/api/v1/alerts/decisions', headers: { authorization: `Bearer ${HOOK}` } })).statusCode).toBe(403);
    const res = await server.inject({ url: '/api/v1/alerts/decisions?limit=5', headers: { authorization: `Bearer ${API}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().decisions.map((d: { result: string }) => d.result)).toEqual(['acted', 'skipped_not_restart']); // the restart alert was queued, the other decided at once
    expect((await server.inject({ url: '/api/v1/alerts/decisions?limit=-1', headers: { authorization: `Bearer ${API}` } })).statusCode).toBe(400);
    await server.close();
  });
});
