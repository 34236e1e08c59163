/**
 * Property-based fuzzing of the control API's write routes (submit, restart,
 * cancel) through the real server and routes, against a real Supervisor with a
 * real SQLite queue and two real agent processes. Whatever the body, name or id,
 * the answer is the documented success or a JSON 4xx; a 4xx leaves the queue and
 * the agents exactly as they were; the supervisor stays up.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/loadConfig.js';
import { createServer } from '../../src/server/createServer.js';
import { registerRoutes } from '../../src/server/routes.js';
import { StateDir } from '../../src/supervisor/StateDir.js';
import { Supervisor } from '../../src/supervisor/Supervisor.js';
import { processesWith, waitFor } from '../helpers/harness.js';
import { fuzzParams } from './fuzzParams.js';
import { mutate, mutation } from './mutate.js';

const TOKEN = 't'.repeat(64);
const MARKER = `apifuzz-${randomUUID().slice(0, 8)}`;
const BODY_LIMIT = 64 * 1024;
let root: string;
let sup: Supervisor;
let app: ReturnType<typeof createServer>;
let shutdowns = 0;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'agentic-api-fuzz-'));
  // `hold` never speaks the protocol, so it is never idle: submitted tasks stay pending and the queue is easy to compare.
  const config = parseConfig({ background: { state_dir: root, agents: [{ name: 'hold', command: ['node', '-e', 'setInterval(() => {}, 1000)', MARKER], replicas: 2, stop_timeout: 2 }] } });
  const dir = new StateDir(root);
  dir.ensure();
  const logger = pino({ level: 'silent' });
  sup = new Supervisor(config, { stateDir: dir, logger });
  app = createServer({ bodyLimit: BODY_LIMIT, apiToken: TOKEN, logger });
  registerRoutes(app, { sup, version: 'fuzz', onShutdown: () => { shutdowns++; } });
  await app.ready();
  await sup.start();
  await settled();
});

afterAll(async () => {
  await app?.close();
  await sup?.stop('fuzz done');
  for (const pid of processesWith(MARKER)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Both replicas running with a process (after a restart the test waits for this). */
const settled = () => waitFor('both replicas running', () => sup.replicas.every((r) => r.state.kind === 'running' && r.pid !== undefined), 30_000, 20);

/** Everything a refused request must leave as it was. */
const snapshot = async () => ({
  tasks: await sup.queue.list({ limit: 100_000 }),
  replicas: sup.replicas.map((r) => ({ slot: r.slot, pid: r.pid, generation: r.generation, state: r.state.kind, restarts: { ...r.restarts } })),
  shutdowns,
});

const inject = (method: 'POST', url: string, text: string | undefined, contentType: string | undefined) =>
  app.inject({ method, url, ...(text === undefined ? {} : { payload: text }), headers: { authorization: `Bearer ${TOKEN}`, ...(contentType ? { 'content-type': contentType } : {}) } });

/** A JSON 4xx `{error, reason?}`, the documented error shape. */
function expectJsonError(res: Awaited<ReturnType<typeof inject>>): void {
  expect(res.statusCode).toBeGreaterThanOrEqual(400);
  expect(res.statusCode).toBeLessThan(500);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof (res.json() as { error?: unknown }).error).toBe('string');
}

type Req = { text: string | undefined; contentType: string | undefined };
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/jsonp', 'multipart/form-data; boundary=z', ''];
/** Bodies around `valid` ones: themselves, mutated, any JSON, any text, other content types. */
const bodiesAround = (valid: fc.Arbitrary<unknown>, validWeight = 2): fc.Arbitrary<Req> => fc.oneof(
  { weight: validWeight, arbitrary: valid.map((v) => ({ text: JSON.stringify(v), contentType: 'application/json' })) },
  { weight: 5, arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, ms]) => ({ text: JSON.stringify(ms.reduce<unknown>((d, m) => mutate(d, m), v)) ?? '', contentType: 'application/json' })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ text: JSON.stringify(v), contentType: 'application/json' })) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, contentType: 'application/json' })) },
  { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom(...CONTENT_TYPES)).map(([v, contentType]) => ({ text: JSON.stringify(v), contentType })) },
  { weight: 1, arbitrary: fc.constant({ text: 'x'.repeat(BODY_LIMIT + 1), contentType: 'application/json' }) },
);

let serial = 0;
const validSubmit = fc.record({
  role: fc.constant('hold'),
  title: fc.string({ minLength: 1, maxLength: 40 }),
  prompt: fc.string({ maxLength: 100 }),
  payload: fc.jsonValue({ maxDepth: 2 }),
  priority: fc.integer({ min: 1, max: 10 }),
  id: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined).map(() => `FZ_${++serial}`) }, { weight: 1, arbitrary: fc.constant('FZ_1') }), // FZ_1 again: 409
}, { requiredKeys: ['role', 'title'] });

/** A path segment: a known name, arbitrary text (percent-encoded), or raw odd spellings. */
const segment = (known: string[]) => fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...known).map(encodeURIComponent) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%ff', '%00', '..', '.', '%2F', 'a%2Fb', 'x'.repeat(300), '%E2%80%AE', ';', '%20') },
);

describe('the control API under arbitrary input', () => {
  it('POST /api/v1/tasks: 201 adds exactly the task asked for; a 4xx changes nothing', async () => {
    await fc.assert(fc.asyncProperty(bodiesAround(validSubmit), async ({ text, contentType }) => {
      const before = await snapshot();
      const res = await inject('POST', '/api/v1/tasks', text, contentType);
      const after = await snapshot();
      expect(after.replicas).toEqual(before.replicas);
      if (res.statusCode === 201) {
        const asked = JSON.parse(text as string) as { id?: string; title: string; role: string };
        const task = (res.json() as { task: { id: string; title: string; role: string; status: string } }).task;
        expect(task).toMatchObject({ title: asked.title, role: 'hold', status: 'pending', ...(asked.id ? { id: asked.id } : {}) });
        expect(after.tasks.length).toBe(before.tasks.length + 1);
        return;
      }
      expectJsonError(res);
      expect(after).toEqual(before);
    }), fuzzParams(300));
  });

  it('POST /api/v1/agents/:name/restart: 202 only for a known agent and a valid body; a 4xx restarts nothing', async () => {
    const validRestart = fc.oneof(fc.constant({}), fc.constant({ reason: 'manual' }), fc.record({ reason: fc.constant('alert'), alertname: fc.string({ minLength: 1, maxLength: 200 }) }));
    await fc.assert(fc.asyncProperty(segment(['hold', 'hold-0', 'hold-1', 'nope']), bodiesAround(validRestart, 1), async (name, { text, contentType }) => {
      const before = await snapshot();
      const res = await inject('POST', `/api/v1/agents/${name}/restart`, text, contentType);
      if (res.statusCode === 202) {
        expect(['hold', 'hold-0', 'hold-1']).toContain(decodeURIComponent(name));
        await settled();
        expect((await snapshot()).tasks).toEqual(before.tasks);
        return;
      }
      expectJsonError(res);
      expect(await snapshot()).toEqual(before);
    }), fuzzParams(150));
  });

  it('POST /api/v1/tasks/:id/cancel: cancels only a pending task by its id; a 4xx changes nothing', async () => {
    const pending = async () => {
      const res = await inject('POST', '/api/v1/tasks', JSON.stringify({ role: 'hold', title: 'to cancel' }), 'application/json');
      return (res.json() as { task: { id: string } }).task.id;
    };
    const ids = [await pending(), await pending(), await pending()];
    await fc.assert(fc.asyncProperty(segment([...ids, 'FZ_1', 'nope']), fc.oneof(fc.constant({ text: undefined, contentType: undefined }), bodiesAround(fc.constant({}))), async (id, { text, contentType }) => {
      const before = await snapshot();
      const wasPending = before.tasks.find((t) => t.id === decodeURIComponentSafe(id))?.status === 'pending';
      const res = await inject('POST', `/api/v1/tasks/${id}/cancel`, text, contentType);
      if (res.statusCode === 200) {
        expect(wasPending).toBe(true);
        expect((res.json() as { task: { status: string } }).task.status).toBe('cancelled');
        expect((await snapshot()).replicas).toEqual(before.replicas);
        return;
      }
      expectJsonError(res);
      expect(await snapshot()).toEqual(before);
    }), fuzzParams(200));
  });

  it('is still up afterwards: the same agents run, and a valid submit works', async () => {
    expect(sup.replicas.every((r) => r.state.kind === 'running')).toBe(true);
    expect(processesWith(MARKER)).toHaveLength(2);
    const res = await inject('POST', '/api/v1/tasks', JSON.stringify({ role: 'hold', title: 'after the fuzz' }), 'application/json');
    expect(res.statusCode).toBe(201);
    expect(shutdowns).toBe(0);
  });
});

function decodeURIComponentSafe(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
