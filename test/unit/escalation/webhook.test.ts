import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertLog, Escalation } from '../../../src/recovery/escalation/Notifier.js';
import { WebhookNotifier } from '../../../src/recovery/escalation/WebhookNotifier.js';

interface Hit { at: number; headers: IncomingMessage['headers']; body: string }

/** A real loopback webhook: `respond` decides each request's fate (call n is 0-based). */
async function webhook(respond: (n: number, res: ServerResponse) => void): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      hits.push({ at: Date.now(), headers: req.headers, body });
      respond(hits.length - 1, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/SECRET`, hits, server };
}

const lines: { level: string; msg: string }[] = [];
const log: AlertLog = {
  debug: (_o, msg) => lines.push({ level: 'debug', msg }),
  info: (_o, msg) => lines.push({ level: 'info', msg }),
  warn: (_o, msg) => lines.push({ level: 'warn', msg }),
  error: (_o, msg) => lines.push({ level: 'error', msg }),
};
const esc = (slot = 'qaa-0'): Escalation => ({ agent: 'qaa', role: 'qaa', slot, reason: 'circuit_open', detail: '5 failures within 300s', at: Date.UTC(2025, 0, 2, 3, 4, 5) });
const fastBackoff = { initialDelayMs: 20, maxDelayMs: 100 };
const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('WebhookNotifier against a real loopback server', () => {
  const servers: Server[] = [];
  const notifiers: WebhookNotifier[] = [];
  const make = (o: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> & { url: string }) => {
    const n = new WebhookNotifier({ log, backoff: fastBackoff, host: 'test-host', ...o });
    notifiers.push(n);
    return n;
  };
  const serve = async (respond: (n: number, res: ServerResponse) => void) => {
    const w = await webhook(respond);
    servers.push(w.server);
    return w;
  };
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.close(0)));
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
    lines.length = 0;
  });

  it('POSTs the escalation as versioned JSON', async () => {
    const w = await serve((_n, res) => res.end('ok'));
    const n = make({ url: w.url });
    n.notify(esc());
    await until('a delivery', () => n.counters().sent === 1);
    expect(w.hits).toHaveLength(1);
    expect(w.hits[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(w.hits[0]!.body)).toEqual({
      version: 1, kind: 'escalation', agent: 'qaa', role: 'qaa', replica: 'qaa-0', reason: 'circuit_open',
      detail: '5 failures within 300s', at: '2025-01-02T03:04:05.000Z', host: 'test-host',
    });
    expect(n.counters()).toEqual({ sent: 1, failed: 0, dropped: 0 });
  });

  it('retries a failing webhook with growing delays until it answers 2xx', async () => {
    const w = await serve((i, res) => { res.statusCode = i < 3 ? 503 : 204; res.end(); });
    const n = make({ url: w.url, retries: 3, backoff: { initialDelayMs: 40, maxDelayMs: 1000 } });
    n.notify(esc());
    await until('a delivery', () => n.counters().sent === 1);
    expect(w.hits).toHaveLength(4);
    const gaps = w.hits.slice(1).map((h, i) => h.at - w.hits[i]!.at);
    // delay n is drawn from [d/2, d) with d = 40 ms · 2^n: at least 20, 40, 80 ms
    // (a constant 40 ms backoff would fail the last bound; load only adds to gaps)
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(20 * 2 ** i - 2));
    expect(n.counters()).toEqual({ sent: 1, failed: 0, dropped: 0 });
  });

  it('gives up after `retries` more attempts, then counts and logs a failure without the secret URL path', async () => {
    const w = await serve((_i, res) => { res.statusCode = 500; res.end(); });
    const n = make({ url: w.url, retries: 2 });
    n.notify(esc());
    await until('a failure', () => n.counters().failed === 1);
    expect(w.hits).toHaveLength(3);
    const err = lines.find((l) => l.level === 'error');
    expect(err?.msg).toContain('HTTP 500');
    expect(err?.msg).toContain('qaa-0');
    expect(err?.msg).not.toContain('SECRET');
  });

  it('does not retry a 4xx answer (the request itself is wrong)', async () => {
    const w = await serve((_i, res) => { res.statusCode = 404; res.end(); });
    const n = make({ url: w.url, retries: 5 });
    n.notify(esc());
    await until('a failure', () => n.counters().failed === 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(w.hits).toHaveLength(1);
  });

  it('times out each attempt against a server that never answers', async () => {
    const w = await serve(() => undefined); // hangs
    const n = make({ url: w.url, timeoutMs: 300, retries: 1 });
    const t0 = Date.now();
    n.notify(esc());
    await until('a failure', () => n.counters().failed === 1);
    // Two attempts, each cut at 300 ms, and a backoff drawn from [initialDelayMs / 2, initialDelayMs) = [10, 20) ms; 5 ms for timer rounding.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * 300 + fastBackoff.initialDelayMs / 2 - 5);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(lines.filter((l) => l.level === 'debug' && l.msg.includes('retrying'))).toHaveLength(1);
    expect(w.hits.length).toBeGreaterThanOrEqual(1); // on a loaded machine the 2nd may be cut before the server sees it
    expect(lines.find((l) => l.level === 'error')?.msg).toContain('no answer within 300 ms');
  });

  it('never blocks the caller and bounds its queue when the webhook hangs, counting drops', async () => {
    const w = await serve(() => undefined);
    const n = make({ url: w.url, timeoutMs: 60_000, retries: 3, capacity: 3 });
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) n.notify(esc(`qaa-${i}`));
    // returns before anything is sent, far sooner than one 60 s attempt (the bound allows for a loaded machine)
    expect(w.hits).toHaveLength(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    await until('the first request', () => w.hits.length === 1);
    // all 50 arrived in one tick: three kept (the newest), the rest dropped oldest first
    expect(n.counters()).toEqual({ sent: 0, failed: 0, dropped: 47 });
    expect(lines.filter((l) => l.level === 'warn' && l.msg.includes('dropped'))).toHaveLength(47);
    n.notify(esc('qaa-50')); // one in flight, two waiting: room for exactly one more
    expect(n.counters().dropped).toBe(47);
    n.notify(esc('qaa-51'));
    expect(n.counters().dropped).toBe(48);
    const t1 = Date.now();
    await n.close(100);
    expect(Date.now() - t1).toBeLessThan(5000);
    // the aborted request is counted (and logged) by the time close() resolves
    expect(n.counters()).toEqual({ sent: 0, failed: 1, dropped: 51 });
    expect(JSON.parse(w.hits[0]!.body).replica).toBe('qaa-47');
    expect(w.hits).toHaveLength(1);
  });

  it('delivers what is queued before close() within the grace period', async () => {
    const w = await serve((_i, res) => setTimeout(() => res.end(), 30));
    const n = make({ url: w.url });
    for (let i = 0; i < 3; i++) n.notify(esc(`qaa-${i}`));
    await n.close(5000);
    expect(n.counters()).toEqual({ sent: 3, failed: 0, dropped: 0 });
    n.notify(esc('late-0'));
    expect(n.counters().dropped).toBe(1);
    expect(w.hits.map((h) => JSON.parse(h.body).replica)).toEqual(['qaa-0', 'qaa-1', 'qaa-2']);
  });
});
