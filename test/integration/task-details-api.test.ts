/**
 * The API behind the dashboard's task page and Alerts view, against a real
 * supervisor running a fake `claude -p` (test/fixtures/claude/transcript.mjs: a
 * stand-in, as the real CLI needs an account and the network) and a real SDK agent:
 * GET /api/v1/tasks/:id/logs, POST /api/v1/tasks/:id/priority and the `kind` filter
 * of GET /api/v1/events, each with malformed, unknown-id and unauthorised requests.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskLogLine } from '../../src/server/taskLogRoute.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

interface TaskJson { id: string; status: string; priority: number; started_at: number | null; correlation_id: string }
interface Logs { task_id: string; correlation_id: string; total: number; lines: TaskLogLine[] }

const TRANSCRIPT = path.join(ROOT, 'test/fixtures/claude/transcript.mjs');
const TASK_AGENT = path.join(ROOT, 'test/fixtures/agents/taskAgent.mjs');
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

describe('the task page API: logs by correlation id, priority, escalations', () => {
  let sup: RunningSupervisor;
  const task = async (id: string) => (await sup.api<{ task: TaskJson }>('GET', `/api/v1/tasks/${id}`)).body.task;
  const noAuth = (method: string, p: string, headers: Record<string, string> = {}, body?: string) => fetch(`${sup.url}${p}`, { method, headers, body });

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: { recovery: { restart_attempts: 3, base_delay: 0.1, max_delay: 0.5, circuit_breaker_threshold: 2, breaker_window: 60, breaker_cooldown: 600, stable_uptime: 30 } },
      agents: [
        { name: 'deva', mode: 'per_task', command: ['node', TRANSCRIPT, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', stop_timeout: 2 },
        { name: 'qaa', command: [process.execPath, TASK_AGENT], heartbeat_interval: 0.5, stop_timeout: 1 },
        { name: 'loop', command: ['node', WORKER], env: { WORKER_CRASH_ON_START: '1' } },
      ],
    });
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'deva', title: 'a claude story', prompt: 'ship it', id: 'CL_1' })).status).toBe(201);
    await waitFor('CL_1 to complete', async () => (await task('CL_1')).status === 'completed', 60_000);
  }, 120_000);
  afterAll(() => cleanup(sup));

  it('GET /api/v1/tasks/:id/logs: the lines of `background logs --correlation-id`, a Claude run in pieces', async () => {
    const r = await sup.api<Logs>('GET', '/api/v1/tasks/CL_1/logs');
    expect(r.status).toBe(200);
    const t = await task('CL_1');
    expect(r.body).toMatchObject({ task_id: 'CL_1', correlation_id: t.correlation_id });
    expect(r.body.total).toBe(r.body.lines.length);
    const cli = await sup.cli(['background', 'logs', '--correlation-id', t.correlation_id, '-n', '1000']);
    expect(cli.code, cli.stderr).toBe(0);
    const printed = cli.stdout.trim().split('\n');
    // the same lines, in the same order, with the same message
    expect(printed).toHaveLength(r.body.total);
    r.body.lines.forEach((l, i) => expect(printed[i]).toContain(l.msg));
    const parts = r.body.lines.flatMap((l) => l.parts ?? []);
    expect(parts.map((p) => p.kind)).toEqual(['session', 'text', 'tool', 'tool_result', 'tool', 'tool_error', 'text', 'result']);
    expect(parts[1]).toMatchObject({ text: "I'll read the note first.", body: "I'll read the note first.\nThen I will run the tests." });
    expect(parts[2]?.text).toBe('tool: Read notes/todo.txt');
    expect(parts[3]?.text).toBe('tool result: line one of the note');
    expect(parts[5]?.text).toBe('tool error: Error: 2 tests failed');
    expect(parts[7]?.text).toBe('result: success, 3 turns, $0.3125, 1 s');
    // limit keeps the newest lines; total still counts all
    const two = await sup.api<Logs>('GET', '/api/v1/tasks/CL_1/logs?limit=2');
    expect(two.body.total).toBe(r.body.total);
    expect(two.body.lines).toEqual(r.body.lines.slice(-2));
  });

  it('GET /api/v1/tasks/:id/logs refuses a malformed limit or query (400), an unknown task (404), and answers only with a token', async () => {
    for (const q of ['limit=0', 'limit=abc', 'limit=5001', 'limit=123456', 'limit=-1', 'bogus=1']) {
      const r = await sup.api<{ error: string; reason: string }>('GET', `/api/v1/tasks/CL_1/logs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe('bad_request');
      expect(r.body.reason.length, q).toBeGreaterThan(0);
    }
    const unknown = await sup.api<{ error: string }>('GET', '/api/v1/tasks/NOPE/logs');
    expect(unknown).toEqual({ status: 404, body: { error: 'unknown_task', reason: 'no task NOPE' } });
    // an id longer than any task id: the server's own bound on a path parameter (414, JSON)
    const long = await sup.api<{ error: string }>('GET', `/api/v1/tasks/${'x'.repeat(300)}/logs`);
    expect(long.status).toBe(414);
    expect(typeof long.body.error).toBe('string');
    const none = await noAuth('GET', '/api/v1/tasks/CL_1/logs');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toBe('unauthorized');
    expect((await noAuth('GET', '/api/v1/tasks/CL_1/logs', { authorization: `Bearer ${'x'.repeat(40)}` })).status).toBe(403);
  });

  it('POST /api/v1/tasks/:id/priority changes which pending task runs first; a task that is not pending is refused with a reason', async () => {
    expect((await sup.api('POST', '/api/v1/agents/qaa/stop')).status).toBe(200);
    for (const id of ['PR_A', 'PR_B']) expect((await sup.api('POST', '/api/v1/tasks', { role: 'qaa', title: id, id, priority: 5, payload: { sleep_ms: 50 } })).status).toBe(201);
    const r = await sup.api<{ reprioritised: boolean; previous_priority: number; task: TaskJson & { attempt_history: unknown[] } }>('POST', '/api/v1/tasks/PR_B/priority', { priority: 9 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ reprioritised: true, previous_priority: 5, task: { id: 'PR_B', status: 'pending', priority: 9, attempt_history: [] } });
    expect((await task('PR_B')).priority).toBe(9);
    // the older PR_A would run first at equal priority; PR_B now does
    expect((await sup.api('POST', '/api/v1/agents/qaa/start')).status).toBe(200);
    const [a, b] = await waitFor('both to complete', async () => {
      const ts = await Promise.all([task('PR_A'), task('PR_B')]);
      return ts.every((t) => t.status === 'completed') ? ts : undefined;
    }, 60_000);
    expect(b?.started_at).toBeLessThan(a?.started_at as number);
    const done = await sup.api<{ error: string; reason: string; status: string }>('POST', '/api/v1/tasks/PR_A/priority', { priority: 3 });
    expect(done.status).toBe(409);
    expect(done.body).toEqual({ error: 'not_pending', status: 'completed', reason: 'Task PR_A is completed: only pending tasks can be re-prioritised.' });
    expect((await task('PR_A')).priority).toBe(5);
  }, 90_000);

  it('POST /api/v1/tasks/:id/priority refuses malformed bodies (400), an unknown task (404), and a request without a token or CSRF header', async () => {
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'deva', title: 'waits', id: 'PR_C', priority: 4 })).status).toBe(201);
    for (const body of ['{}', '{"priority":0}', '{"priority":11}', '{"priority":"5"}', '{"priority":5.5}', '{"priority":5,"x":1}', '[5]', '{"priority":', 'null']) {
      const r = await sup.api<{ error: string }>('POST', '/api/v1/tasks/PR_C/priority', body);
      expect(r.status, body).toBe(400);
      expect(r.body.error, body).toBe('bad_request');
    }
    expect((await sup.api<{ error: string }>('POST', '/api/v1/tasks/NOPE/priority', { priority: 5 })).body).toEqual({ error: 'unknown_task', reason: expect.stringContaining('No task NOPE') });
    expect((await noAuth('POST', '/api/v1/tasks/PR_C/priority', { 'content-type': 'application/json' }, '{"priority":9}')).status).toBe(401);
    expect((await noAuth('POST', '/api/v1/tasks/PR_C/priority', { 'content-type': 'application/json', authorization: `Bearer ${'y'.repeat(40)}` }, '{"priority":9}')).status).toBe(403);
    // a dashboard session without its CSRF header changes nothing either
    const code = await sup.api<{ code: string }>('POST', '/api/v1/ui/codes');
    const login = await noAuth('POST', '/ui/login', { 'content-type': 'application/json', origin: sup.url }, JSON.stringify({ code: code.body.code }));
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(cookie).toMatch(/^agentic_ui=/);
    const csrfless = await noAuth('POST', '/api/v1/tasks/PR_C/priority', { 'content-type': 'application/json', cookie, origin: sup.url }, '{"priority":9}');
    expect(csrfless.status).toBe(403);
    expect((await task('PR_C')).priority).toBe(4);
  });

  it('GET /api/v1/events?kind= keeps only those kinds, newest first; a malformed kind is a 400', async () => {
    await waitFor('loop to escalate (its breaker opens)', async () => (await sup.api<{ events: { kind: string }[] }>('GET', '/api/v1/events?kind=escalation')).body.events.length > 0, 60_000);
    const r = await sup.api<{ events: { id: number; kind: string; replica: string | null; detail: { reason: string } }[] }>('GET', '/api/v1/events?kind=escalation,budget_exceeded&limit=50');
    expect(r.status).toBe(200);
    expect(new Set(r.body.events.map((e) => e.kind))).toEqual(new Set(['escalation']));
    expect(r.body.events[0]).toMatchObject({ replica: 'loop-0', detail: { reason: expect.stringMatching(/circuit_open|restarts_exhausted/) } });
    const all = (await sup.api<{ events: { id: number; kind: string }[] }>('GET', '/api/v1/events?limit=1000')).body.events;
    expect(r.body.events.map((e) => e.id)).toEqual(all.filter((e) => e.kind === 'escalation').map((e) => e.id).slice(0, 50));
    for (const q of ['kind=', 'kind=Escalation', 'kind=a,,b', `kind=${'a,'.repeat(10)}a`, 'kind=escalation;drop']) {
      expect((await sup.api('GET', `/api/v1/events?${q}`)).status, q).toBe(400);
    }
    expect((await noAuth('GET', '/api/v1/events?kind=escalation')).status).toBe(401);
  }, 90_000);
});
