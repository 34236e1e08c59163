/**
 * Property-based fuzzing of the Alertmanager webhook (POST /api/v1/alerts) through
 * the real server, routes and recovery controller (a real SQLite decision store; a
 * fake supervisor port that records restarts). Whatever the body, the answer is
 * 202 for a valid notification or a JSON 4xx; a 4xx records no decision and
 * restarts nothing.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertmanagerPayload } from '../../src/controller/alertmanagerPayload.js';
import { registerWebhookRoutes } from '../../src/controller/webhookRoutes.js';
import { createServer } from '../../src/server/createServer.js';
import { alert, payload, rig, type Rig } from '../unit/controller/helpers.js';
import { fuzzParams } from './fuzzParams.js';
import { mutate, mutation } from './mutate.js';

const HOOK = 'w'.repeat(64);
const API = 'a'.repeat(64);
const BODY_LIMIT = 8192;

let r: Rig;
let server: ReturnType<typeof createServer>;
beforeAll(async () => {
  r = rig();
  server = createServer({ bodyLimit: 1024 * 1024, apiToken: API, webhookToken: HOOK, logger: pino({ level: 'silent' }) });
  registerWebhookRoutes(server, { controller: r.controller, bodyLimit: BODY_LIMIT, log: { error: () => {} } });
  await server.ready();
});
afterAll(async () => { await server.close(); });

/** A valid notification with a few alerts (unique fingerprints, so none is a duplicate of an earlier run). */
let serial = 0;
const validPayload = fc.record({
  n: fc.integer({ min: 0, max: 3 }),
  replica: fc.constantFrom('qaa-0', 'qaa-1', 'qaa-9', ''),
  action: fc.constantFrom('restart', 'none', ''),
  status: fc.constantFrom('firing', 'resolved'),
  pad: fc.integer({ min: 0, max: 9000 }),
}).map(({ n, replica, action, status, pad }) => payload(...Array.from({ length: n }, () => alert({
  fingerprint: `fz${++serial}`, status: status as 'firing' | 'resolved',
  labels: { replica, action }, annotations: { summary: 'x'.repeat(pad) },
}))));

type Body = { text: string; contentType: string };
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: validPayload.map((p) => ({ text: JSON.stringify(p), contentType: 'application/json' })) },
  { weight: 6, arbitrary: fc.tuple(validPayload, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([p, ms]) => ({ text: JSON.stringify(ms.reduce<unknown>((d, m) => mutate(d, m), p)) ?? '', contentType: 'application/json' })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ text: JSON.stringify(v), contentType: 'application/json' })) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((text) => ({ text, contentType: 'application/json' })) },
  { weight: 1, arbitrary: fc.tuple(validPayload, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonx', 'multipart/form-data; boundary=x', '')).map(([p, contentType]) => ({ text: JSON.stringify(p), contentType })) },
);

describe('POST /api/v1/alerts under arbitrary bodies', () => {
  it('answers 202 to a valid notification and a JSON 4xx to anything else; a 4xx changes nothing', async () => {
    await fc.assert(fc.asyncProperty(body, async ({ text, contentType }) => {
      await r.controller.idle(); // an earlier accepted notification is decided in the background
      const decisionsBefore = r.store.recent(10_000).length;
      const restartsBefore = r.port.restarts.length;
      const res = await server.inject({ method: 'POST', url: '/api/v1/alerts', payload: text, headers: { authorization: `Bearer ${HOOK}`, ...(contentType ? { 'content-type': contentType } : {}) } });
      expect([202, 400, 413, 415]).toContain(res.statusCode);
      if (res.statusCode === 202) {
        let parsed: unknown;
        expect(() => { parsed = JSON.parse(text); }).not.toThrow();
        expect(parseAlertmanagerPayload(parsed).ok).toBe(true);
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(BODY_LIMIT);
        return;
      }
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const answer = res.json() as { error?: unknown; reason?: unknown };
      expect(typeof answer.error).toBe('string');
      if (res.statusCode === 413) expect(Buffer.byteLength(text)).toBeGreaterThan(BODY_LIMIT);
      await r.controller.idle();
      expect(r.store.recent(10_000).length).toBe(decisionsBefore);
      expect(r.port.restarts.length).toBe(restartsBefore);
    }), fuzzParams(400));
    // the server still answers, and the controller still decides
    const ok = await server.inject({ method: 'POST', url: '/api/v1/alerts', payload: JSON.stringify(payload(alert({ fingerprint: 'after-fuzz' }))), headers: { authorization: `Bearer ${HOOK}`, 'content-type': 'application/json' } });
    expect(ok.statusCode).toBe(202);
  });
});
