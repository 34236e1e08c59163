import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller, processingRate } from '../../../src/cli/monitor/Poller.js';
import { StateDir } from '../../../src/supervisor/StateDir.js';
import { agent, NOW, status } from './fixtures.js';

/** A stand-in control API on loopback that checks the bearer token, as the supervisor does. */
async function fakeSupervisor(dir: string, token: string, pid: number, routes: Record<string, unknown>): Promise<{ server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== `Bearer ${token}`) return res.writeHead(401).end('{"error":"unauthorized"}');
    const key = `${req.method} ${req.url?.split('?')[0]}`;
    const body = routes[key];
    if (body === undefined) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    res.writeHead(key.startsWith('POST') ? 202 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  writeFileSync(path.join(dir, 'endpoint.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, pid, started_at: '', state_dir: dir }));
  writeFileSync(path.join(dir, 'api.token'), `${token}\n`);
  return { server, calls };
}

const close = (s: Server) => new Promise((r) => s.close(r));

describe('Poller', () => {
  let dir = '';
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) if (s.listening) await close(s);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads status, derives health when /api/v1/health is missing, and counts recent completed tasks when /api/v1/stats is', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-poller-'));
    const now = Date.now();
    const tasks = [{ finished_at: now - 10_000 }, { finished_at: now - 50_000 }, { finished_at: now - 400_000 }];
    const st = status([agent({ agent: 'qaa' })], { supervisor: { pid: 11, started_at: new Date(now - 3600_000).toISOString(), version: '1' } });
    const { server, calls } = await fakeSupervisor(dir, 'tok-1', 11, { 'GET /api/v1/status': st, 'GET /api/v1/tasks': { tasks } });
    servers.push(server);
    const snap = await new Poller({ stateDir: new StateDir(dir) }).poll();
    expect(snap.connected).toBe(true);
    expect(snap.health).toMatchObject({ verdict: 'healthy', source: 'derived' });
    expect(snap.ratePerMin).toBeCloseTo(2 / 5);
    expect(calls).toContain('GET /api/v1/tasks?status=completed&limit=200');
  });

  it('takes the processing rate from /api/v1/stats over the last 5 minutes when the supervisor has it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-poller-'));
    const st = status([agent({ agent: 'qaa' })], { supervisor: { pid: 11, started_at: new Date(Date.now() - 3600_000).toISOString(), version: '1' } });
    const { server, calls } = await fakeSupervisor(dir, 'tok', 11, { 'GET /api/v1/status': st, 'GET /api/v1/stats': { roles: [{ role: 'qaa', completed: 3 }, { role: 'saa', completed: 2 }] } });
    servers.push(server);
    const snap = await new Poller({ stateDir: new StateDir(dir) }).poll();
    expect(snap.ratePerMin).toBeCloseTo(1);
    expect(calls).toContain('GET /api/v1/stats?window=300s');
    expect(calls.some((c) => c.startsWith('GET /api/v1/tasks'))).toBe(false);
  });

  it('survives the supervisor restarting on a new port with a new token: reconnecting…, then reconnected', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-poller-'));
    const first = await fakeSupervisor(dir, 'tok-1', 11, { 'GET /api/v1/status': status([agent({ agent: 'qaa' })], { supervisor: { pid: 11, started_at: '', version: '1' } }), 'GET /api/v1/tasks': { tasks: [] } });
    servers.push(first.server);
    const poller = new Poller({ stateDir: new StateDir(dir) });
    expect((await poller.poll()).connected).toBe(true);

    await close(first.server);
    const down = await poller.poll();
    expect(down.connected).toBe(false);
    expect(down.status?.agents).toHaveLength(1); // the last data stays on screen
    expect(down.events[0]?.text).toBe('supervisor unreachable: reconnecting…');

    const second = await fakeSupervisor(dir, 'tok-2', 12, { 'GET /api/v1/status': status([agent({ agent: 'qaa' })], { supervisor: { pid: 12, started_at: '', version: '1' } }), 'GET /api/v1/tasks': { tasks: [] }, 'GET /api/v1/health': { verdict: 'degraded', agents: [] } });
    servers.push(second.server);
    const up = await poller.poll();
    expect(up.connected).toBe(true);
    expect(up.status?.supervisor.pid).toBe(12);
    expect(up.health).toMatchObject({ verdict: 'degraded', source: 'endpoint' });
    expect(up.events.map((e) => e.text)).toContain('reconnected to the supervisor (pid 12)');
  });

  it('fills "Recent events" from GET /api/v1/events on the first poll only, then from comparing polls', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-poller-'));
    const now = Date.now();
    const st = status([agent({ agent: 'qaa' })], { supervisor: { pid: 11, started_at: '', version: '1' } });
    const events = { events: [
      { id: 2, at: new Date(now - 1000).toISOString(), agent: 'qaa', replica: 'qaa-0', kind: 'exit', detail: { reason: 'manual restart' } },
      { id: 1, at: new Date(now - 9000).toISOString(), agent: null, replica: null, kind: 'supervisor', detail: { message: 'started (pid 11)' } },
    ] };
    const { server, calls } = await fakeSupervisor(dir, 'tok', 11, { 'GET /api/v1/status': st, 'GET /api/v1/tasks': { tasks: [] }, 'GET /api/v1/events': events });
    servers.push(server);
    const poller = new Poller({ stateDir: new StateDir(dir) });
    const first = await poller.poll();
    expect(first.events.map((e) => e.text)).toEqual(['qaa-0 exited (manual restart)', 'supervisor started (pid 11)']);
    expect(calls).toContain('GET /api/v1/events?limit=50');
    const second = await poller.poll();
    expect(second.events.map((e) => e.text)).toEqual(['qaa-0 exited (manual restart)', 'supervisor started (pid 11)']);
    expect(calls.filter((c) => c.startsWith('GET /api/v1/events'))).toHaveLength(1);
  });

  it('asks the supervisor to restart a replica and reports its answer', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-poller-'));
    const { server, calls } = await fakeSupervisor(dir, 'tok', 5, { 'POST /api/v1/agents/qaa-1/restart': { agent: 'qaa-1', accepted: true, replicas: ['qaa-1'] } });
    servers.push(server);
    const r = await new Poller({ stateDir: new StateDir(dir) }).restart('qaa-1');
    expect(r).toEqual({ ok: true, text: 'Restart of qaa-1 accepted (qaa-1)' });
    expect(calls).toContain('POST /api/v1/agents/qaa-1/restart');
  });

  it('says why when no supervisor runs for the state directory', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-poller-'));
    const snap = await new Poller({ stateDir: new StateDir(dir) }).poll();
    expect(snap.connected).toBe(false);
    expect(snap.error).toMatch(/No supervisor is running for state directory/);
  });
});

describe('processingRate', () => {
  it('averages completed tasks over 5 minutes, or since the supervisor started, never under 10 s', () => {
    const done = (agoMs: number[]) => agoMs.map((a) => ({ finished_at: NOW - a }));
    expect(processingRate(done([1000, 2000, 3000, 400_000]), NOW - 3600_000, NOW)).toBeCloseTo(3 / 5);
    expect(processingRate(done([1000, 2000, 3000]), NOW - 60_000, NOW)).toBeCloseTo(3);
    expect(processingRate(done([1000]), NOW - 1000, NOW)).toBeCloseTo(6);
    expect(processingRate([{ finished_at: null }], NOW - 3600_000, NOW)).toBe(0);
  });
});
