/**
 * The web dashboard's HTTP surface on a real supervisor (a child process): the
 * page's security headers, the one-time login code, the session cookie, the CSRF
 * defence of state-changing calls, the bound on live streams, and bad input.
 */
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; json: { error?: string; reason?: string; [k: string]: unknown } | undefined }

function readAnswer(res: http.IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (text += d));
    res.on('error', reject);
    res.on('end', () => {
      let json: Answer['json'];
      try { json = JSON.parse(text) as Answer['json']; } catch { json = undefined; }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
    });
  });
}

function request(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => void readAnswer(res).then(resolve, reject));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends only the head of a POST whose Content-Length says `length`, and reads the answer (the body is never written). */
function requestDeclaring(url: string, headers: Record<string, string>, length: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(length) } }, (res) => void readAnswer(res).then((a) => { resolve(a); req.destroy(); }, reject));
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** Opens a live stream; resolves with its status once the headers (and for 200 the first snapshot) arrived. */
function openStream(url: string, cookie: string): Promise<{ status: number; first: string; close: () => void; body?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/api/v1/ui/stream`, { headers: { cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
        if (res.statusCode === 200 && text.includes('event: snapshot')) resolve({ status: 200, first: text, close: () => req.destroy() });
      });
      res.on('end', () => { if (res.statusCode !== 200) resolve({ status: res.statusCode ?? 0, first: '', body: text, close: () => undefined }); });
    });
    req.on('error', reject);
  });
}

describe('web dashboard security', () => {
  let sup: RunningSupervisor;
  let host: string;
  let origin: string;
  const code = async () => (await sup.api<{ code: string; path: string; expires_at: string }>('POST', '/api/v1/ui/codes')).body;
  const login = (c: string, headers: Record<string, string> = { origin }) => request(`${sup.url}/ui/login`, 'POST', { 'content-type': 'application/json', ...headers }, JSON.stringify({ code: c }));
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] });
    host = new URL(sup.url).host;
    origin = `http://${host}`;
    const r = await login((await code()).code);
    expect(r.status).toBe(200);
    cookie = String(r.headers['set-cookie']?.[0]).split(';')[0] as string;
    csrf = String(r.json?.csrf);
    await waitFor('the agent to run', async () => (await sup.api<{ agents: { state: string }[] }>('GET', '/api/v1/status')).body.agents[0]?.state === 'running');
  }, 60_000);
  afterAll(() => cleanup(sup));

  it('serves the page with a strict CSP, nosniff and no framing, and no inline script or style', async () => {
    const r = await request(`${sup.url}/ui/`, 'GET');
    expect(r.status).toBe(200);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(r.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(r.body).not.toMatch(/https?:\/\//); // no CDN: every asset from this server
    for (const asset of ['assets/app.js', 'assets/app.css']) {
      const a = await request(`${sup.url}/ui/${asset}`, 'GET');
      expect(a.status, asset).toBe(200);
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['content-type']).toMatch(asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    }
    const missing = await request(`${sup.url}/ui/assets/..%2F..%2Fpackage.json`, 'GET');
    expect(missing.status).toBe(404);
    expect(missing.json?.error).toBe('not_found');
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, on /api/v1/ only; a code works once', async () => {
    const c = await code();
    expect(c.path).toBe(`/ui/#login=${c.code}`); // in the fragment: never sent to a server, never in an access log
    expect(Date.parse(c.expires_at) - Date.now()).toBeLessThanOrEqual(300_000);
    const first = await login(c.code);
    expect(first.status).toBe(200);
    const set = String(first.headers['set-cookie']?.[0]);
    expect(set).toMatch(/^agentic_ui=[A-Za-z0-9_-]{40,};/);
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/api/v1/');
    expect(first.headers['cache-control']).toBe('no-store');
    const again = await login(c.code);
    expect(again.status).toBe(401);
    expect(again.json?.error).toBe('invalid_code');
    expect(again.json?.reason).toContain('background ui');
  });

  it('refuses a login from another origin, and malformed, oversized or non-JSON bodies, with a JSON reason', async () => {
    const c = await code();
    expect((await login(c.code, { origin: 'http://evil.example' })).json?.error).toBe('cross_site');
    expect((await login(c.code, {})).status).toBe(403); // no Origin at all
    // refused before the code is looked at: a cross-site page cannot even spend it
    expect((await login(c.code)).status).toBe(200);
    expect((await login(c.code)).status).toBe(401);
    const bad = await request(`${sup.url}/ui/login`, 'POST', { 'content-type': 'application/json', origin }, '{"code": 12');
    expect([bad.status, bad.json?.error]).toEqual([400, 'bad_request']);
    const shape = await request(`${sup.url}/ui/login`, 'POST', { 'content-type': 'application/json', origin }, JSON.stringify({ code: 'short', extra: 1 }));
    expect([shape.status, shape.json?.error]).toEqual([400, 'bad_request']);
    const text = await request(`${sup.url}/ui/login`, 'POST', { 'content-type': 'text/plain', origin }, 'code');
    expect([text.status, text.json?.error]).toEqual([415, 'unsupported_media_type']);
    // Declared, not sent: the server answers 413 from the Content-Length and closes the connection,
    // and a client still writing 2 MB would get EPIPE before it could read the answer.
    const big = await requestDeclaring(`${sup.url}/ui/login`, { 'content-type': 'application/json', origin }, 2 * 1024 * 1024 + 12);
    expect([big.status, big.json?.error]).toEqual([413, 'payload_too_large']);
  });

  it('lets the cookie read the API, and a state change only with the CSRF header from the same origin', async () => {
    expect((await request(`${sup.url}/api/v1/status`, 'GET', { cookie })).status).toBe(200);
    expect((await request(`${sup.url}/api/v1/ui/session`, 'GET', { cookie })).json?.csrf).toBe(csrf);
    const restart = (h: Record<string, string>) => request(`${sup.url}/api/v1/agents/w/restart`, 'POST', { 'content-type': 'application/json', cookie, ...h }, '{}');
    expect((await restart({ origin })).json?.error).toBe('csrf');
    expect((await restart({ origin, 'x-agentic-csrf': 'x'.repeat(43) })).json?.error).toBe('csrf');
    expect((await restart({ 'x-agentic-csrf': csrf })).json?.error).toBe('cross_site');
    expect((await restart({ origin: 'http://evil.example', 'x-agentic-csrf': csrf })).json?.error).toBe('cross_site');
    expect((await restart({ origin, 'sec-fetch-site': 'cross-site', 'x-agentic-csrf': csrf })).json?.error).toBe('cross_site');
    const restarts = (await sup.api<{ agents: { restarts: number }[] }>('GET', '/api/v1/status')).body.agents[0]?.restarts;
    expect(restarts).toBe(0);
    const ok = await restart({ origin, 'sec-fetch-site': 'same-origin', 'x-agentic-csrf': csrf });
    expect(ok.status).toBe(202);
    // A session cannot mint login codes: only the API token can.
    const mint = await request(`${sup.url}/api/v1/ui/codes`, 'POST', { cookie, origin, 'x-agentic-csrf': csrf });
    expect([mint.status, mint.json?.error]).toEqual([403, 'token_required']);
    // An unknown cookie is no session.
    expect((await request(`${sup.url}/api/v1/status`, 'GET', { cookie: 'agentic_ui=forged' })).status).toBe(401);
  });

  it('streams snapshots to at most 20 pages and answers the 21st 429 with a reason; a closed page frees its place', async () => {
    const streams = [];
    for (let i = 0; i < 20; i++) streams.push(await openStream(sup.url, cookie));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    const snapshot = JSON.parse(/data: (.*)\n/.exec(streams[0]?.first ?? '')?.[1] ?? '{}') as { status?: { agents?: unknown[] }; health?: unknown };
    expect(snapshot.status?.agents).toHaveLength(1);
    expect(snapshot.health).toBeTruthy();
    const extra = await openStream(sup.url, cookie);
    expect(extra.status).toBe(429);
    expect(JSON.parse(extra.body ?? '{}')).toMatchObject({ error: 'too_many_live_pages', reason: expect.stringContaining('20 dashboard pages') });
    streams[0]?.close();
    const later = await waitFor('a place to free up', async () => { const s = await openStream(sup.url, cookie); if (s.status === 200) return s; s.close(); return undefined; });
    for (const s of [...streams, later]) s.close();
    expect((await request(`${sup.url}/api/v1/ui/stream`, 'GET')).status).toBe(401);
  });

  it('background ui prints a working one-time link (text and --json)', async () => {
    const text = await sup.cli(['background', 'ui']);
    expect(text.code, text.stderr).toBe(0);
    const url = /(http:\/\/\S+\/ui\/#login=[A-Za-z0-9_-]+)/.exec(text.stdout)?.[1];
    expect(url).toBeDefined();
    const json = await sup.cli(['background', 'ui', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout) as { ok: boolean; action: string; url: string; expires_at: string };
    expect(body).toMatchObject({ ok: true, action: 'ui', url: expect.stringMatching(new RegExp(`^${sup.url}/ui/#login=`)) });
    for (const u of [url as string, body.url]) expect((await login(u.split('#login=')[1] as string)).status).toBe(200);
  });

  it('logs out: the cookie stops working', async () => {
    const r = await login((await code()).code);
    const c2 = String(r.headers['set-cookie']?.[0]).split(';')[0] as string;
    const out = await request(`${sup.url}/api/v1/ui/logout`, 'POST', { cookie: c2, origin, 'x-agentic-csrf': String(r.json?.csrf), 'content-type': 'application/json' }, '{}');
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie']?.[0])).toContain('Max-Age=0');
    expect((await request(`${sup.url}/api/v1/status`, 'GET', { cookie: c2 })).status).toBe(401);
    expect((await request(`${sup.url}/api/v1/status`, 'GET', { cookie })).status).toBe(200);
  });
});
