import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../../src/server/createServer.js';
import { excerpt, URL_EXCERPT_CHARS } from '../../../src/server/frameworkErrors.js';
import { routeAuth } from '../../../src/server/routeAuth.js';
import { rawRequest, requestHead } from '../../helpers/rawHttp.js';

const API = 'a'.repeat(32);
const LONG = 'y'.repeat(6000);

/**
 * Requests that Fastify's router or Node's HTTP parser refuses before any route
 * runs: each answer is the documented `{error, reason}` JSON, and none echoes the
 * whole URL. Raw bytes over a socket, so no client re-encodes the URL.
 */
describe('the server\'s own refusals answer {error, reason} JSON without echoing the URL', () => {
  let app: FastifyInstance;
  let port: number;
  let ran = 0;
  beforeAll(async () => {
    app = createServer({ bodyLimit: 1024, apiToken: API, logger: pino({ level: 'silent' }) });
    app.get<{ Params: { id: string } }>('/api/v1/tasks/:id', routeAuth('api'), async (req) => { ran++; return { id: req.params.id }; });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => { await app.close(); });

  const expectShape = (res: Awaited<ReturnType<typeof rawRequest>>, status: number, error: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.json ?? {}).sort()).toEqual(['error', 'reason']);
    expect(res.json?.error).toBe(error);
    expect(String(res.json?.reason).length).toBeLessThan(URL_EXCERPT_CHARS + 80);
    expect(res.body).not.toContain('y'.repeat(URL_EXCERPT_CHARS + 1));
  };

  it('answers a path that is not valid percent-encoding (FST_ERR_BAD_URL) with 400', async () => {
    const res = await rawRequest(port, requestHead('GET', `/api/v1/tasks/%zz${LONG}`, { authorization: `Bearer ${API}` }));
    expectShape(res, 400, 'bad_request');
    expect(res.json?.reason).toMatch(/^the path is not valid percent-encoding: \/api\/v1\/tasks\/%zzy+…$/);
  });

  it.each(['%', '%E0%A4%A', '%C0%AF', '%ED%A0%80'])('answers the bad percent-encoding %s with 400', async (bad) => {
    expectShape(await rawRequest(port, requestHead('GET', `/api/v1/tasks/${bad}`, { authorization: `Bearer ${API}` })), 400, 'bad_request');
  });

  it('answers a path parameter over the router\'s length limit (FST_ERR_MAX_PARAM_LENGTH) with 414', async () => {
    const res = await rawRequest(port, requestHead('GET', `/api/v1/tasks/${LONG}`, { authorization: `Bearer ${API}` }));
    expectShape(res, 414, 'uri_too_long');
    expect(res.json?.reason).toMatch(/^a path segment is longer than 200 characters: /);
  });

  it('accepts a parameter of 128 characters (the longest task id)', async () => {
    const res = await rawRequest(port, requestHead('GET', `/api/v1/tasks/${'t'.repeat(128)}`, { authorization: `Bearer ${API}` }));
    expect(res.status).toBe(200);
  });

  it('answers header fields over Node\'s limit with 431', async () => {
    expectShape(await rawRequest(port, requestHead('GET', '/api/v1/tasks/x', { 'x-filler': 'y'.repeat(20_000) })), 431, 'request_header_fields_too_large');
  });

  it('answers a request line over Node\'s limit with 431', async () => {
    expectShape(await rawRequest(port, requestHead('GET', `/api/v1/tasks/x?q=${'y'.repeat(20_000)}`)), 431, 'request_header_fields_too_large');
  });

  it.each([
    ['a header line without a colon', Buffer.from('GET /api/v1/tasks/x HTTP/1.1\r\nno-colon-here')],
    ['a method Node does not know', Buffer.from('BREW /api/v1/tasks/x HTTP/1.1')],
    ['a header name with a space', Buffer.from('GET /api/v1/tasks/x HTTP/1.1\r\nbad header: 1')],
    ['a NUL byte in the URL', Buffer.from('GET /api/v1/tasks/\0x HTTP/1.1')],
  ])('answers %s (refused by Node\'s HTTP parser) with 400', async (_n, head) => {
    expectShape(await rawRequest(port, head), 400, 'bad_request');
  });

  it('answers an unknown URL with 404 quoting at most a short excerpt of its path', async () => {
    const res = await rawRequest(port, requestHead('GET', `/api/v2/${LONG}?secret=${'z'.repeat(50)}`));
    expectShape(res, 404, 'not_found');
    expect(res.body).not.toContain('secret');
  });

  it('ran no handler for any of them', () => {
    expect(ran).toBe(1); // the 128-character id only
  });
});

describe('excerpt', () => {
  it('keeps a short string and cuts a long one, marking the cut', () => {
    expect(excerpt('/api/v1/x')).toBe('/api/v1/x');
    expect(excerpt('a'.repeat(100), 10)).toBe(`${'a'.repeat(10)}…`);
  });
});
