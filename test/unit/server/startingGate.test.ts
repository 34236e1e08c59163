import { createServer as createNetServer, type Server } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { listenError } from '../../../src/cli/listenError.js';
import { createServer } from '../../../src/server/createServer.js';
import { routeAuth } from '../../../src/server/routeAuth.js';
import { gateUntilReady } from '../../../src/server/startingGate.js';

const TOKEN = 't'.repeat(64);
const auth = { authorization: `Bearer ${TOKEN}` };

function app(isReady: () => boolean) {
  const a = createServer({ bodyLimit: 1024, apiToken: TOKEN, logger: pino({ level: 'silent' }) });
  gateUntilReady(a, isReady);
  a.get('/healthz', routeAuth('public'), async () => ({ status: 'ok' }));
  a.get('/readyz', routeAuth('public'), async () => ({ ready: isReady() }));
  a.get('/api/v1/agents', routeAuth('api'), async () => ({ agents: [] }));
  a.get('/metrics', routeAuth('metrics'), async () => 'm 1\n');
  return a;
}

describe('the starting gate (the port is bound before the agents start)', () => {
  it('answers 503 "starting" with Retry-After on every route but /healthz and /readyz until ready', async () => {
    let ready = false;
    const a = app(() => ready);
    for (const url of ['/api/v1/agents', '/metrics', '/%61pi/v1/agents', '/nope']) {
      const res = await a.inject({ url, headers: auth });
      expect(res.statusCode, url).toBe(503);
      expect(res.json()).toEqual({ error: 'starting', reason: 'the supervisor is starting its agents; retry in a moment' });
      expect(res.headers['retry-after']).toBe('1');
    }
    expect((await a.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/readyz' })).json()).toEqual({ ready: false });
    ready = true;
    expect((await a.inject({ url: '/api/v1/agents', headers: auth })).statusCode).toBe(200);
    ready = false; // stopping later: the gate stays open (closing is fastify's return503OnClosing)
    expect((await a.inject({ url: '/api/v1/agents', headers: auth })).statusCode).toBe(200);
    await a.close();
  });

  it('still asks for the token first while starting', async () => {
    const a = app(() => false);
    expect((await a.inject({ url: '/api/v1/agents' })).statusCode).toBe(401);
    await a.close();
  });
});

describe('listenError', () => {
  let held: Server | undefined;
  afterEach(() => { held?.close(); held = undefined; });
  const listen = (port: number, host: string) => new Promise<Server>((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
  const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the listen to fail'); }, (e: unknown) => e);

  it('says which address is in use and what to do, as an exit-2 error', async () => {
    held = await listen(0, '127.0.0.1');
    const port = (held.address() as { port: number }).port;
    const err = listenError(await errorOf(listen(port, '127.0.0.1')), '127.0.0.1', port);
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toBe(`Cannot listen on 127.0.0.1:${port} (background.server.host and background.server.port, or --host/--port, AGENTIC_HOST/AGENTIC_PORT): the address is already in use by another process. No agent was started. Stop that process (find it with: ss -ltnp 'sport = :${port}'), or choose another port with --port (0 picks a free one).`);
  });

  it('names an address this host does not have (EADDRNOTAVAIL), with brackets for IPv6', async () => {
    const v4 = listenError(await errorOf(listen(0, '192.0.2.1')), '192.0.2.1', 9464);
    expect(v4?.message).toMatch(/^Cannot listen on 192\.0\.2\.1:9464 .*: no network interface of this host has the address 192\.0\.2\.1\. No agent was started\. Use 127\.0\.0\.1/);
    expect(listenError(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }), '2001:db8::1', 80)?.message).toMatch(/^Cannot listen on \[2001:db8::1\]:80 /);
  });

  it('leaves other errors to the caller', () => {
    expect(listenError(new Error('boom'), '127.0.0.1', 1)).toBeUndefined();
  });
});
