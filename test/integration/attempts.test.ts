import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskWithHistory } from '../../src/queue/Task.js';
import { ROOT, cleanup, restartSupervisor, startSupervisor, taskEnded, taskOf, waitFor, type RunningSupervisor } from '../helpers/harness.js';

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const SDK_AGENT = path.join(ROOT, 'test/fixtures/agents/taskAgent.mjs');

/** A hand-written protocol agent (exits on shutdown without a report) and a Node SDK agent (reports task.failed SHUTDOWN first). */
const AGENTS = [
  { kind: 'protocol worker', command: ['node', WORKER] },
  { kind: 'Node SDK agent', command: ['node', SDK_AGENT] },
];

/**
 * A payload both fixtures understand: each delivery appends its `attempt` to a file,
 * and the first `slowFirst` deliveries take 10 minutes (so a test can stop, restart or
 * cancel them at leisure, however loaded the machine), later ones finish at once.
 */
const files: string[] = [];
function slowFirst(n: number): { payload: { deliveries_file: string; slow_first: number; work_ms: number }; deliveries: () => number[] } {
  const file = path.join(tmpdir(), `deliveries-${randomUUID()}`);
  files.push(file);
  const deliveries = () => { try { return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number); } catch { return []; } };
  return { payload: { deliveries_file: file, slow_first: n, work_ms: 10 }, deliveries };
}

const getTask = (sup: RunningSupervisor, id: string) => taskOf<TaskWithHistory>(sup, id);
const submit = async (sup: RunningSupervisor, body: Record<string, unknown>) => {
  const r = await sup.api<{ task: TaskWithHistory }>('POST', '/api/v1/tasks', body);
  expect(r.status).toBe(201);
  return r.body.task;
};
const inStatus = (sup: RunningSupervisor, id: string, status: string, timeoutMs?: number) =>
  waitFor(`${id} ${status}`, async () => {
    const t = await getTask(sup, id);
    if (t.status === status) return t;
    throw new Error(`it is ${t.status} (attempts ${t.attempts}, error ${t.error})`);
  }, timeoutMs);
const causes = (t: TaskWithHistory) => t.attempt_history.map((a) => [a.cause, a.counted]);

describe('attempts mean agent failures (real supervisor, real agents)', () => {
  let sup: RunningSupervisor | undefined;
  afterEach(() => {
    cleanup(sup);
    sup = undefined;
    for (const f of files.splice(0)) rmSync(f, { force: true });
  });

  it.each(AGENTS)('three graceful `background stop`s do not dead-letter a healthy slow task: after the next start it completes ($kind)', async ({ command }) => {
    sup = await startSupervisor({ agents: [{ name: 'w', command }] });
    const slow = slowFirst(3);
    const task = await submit(sup, { role: 'w', title: 'slow story', payload: slow.payload });
    for (let i = 1; i <= 3; i++) {
      await waitFor(`delivery ${i}`, () => slow.deliveries().length === i);
      const stop = await sup.cli(['background', 'stop']);
      expect(stop.code, stop.stderr).toBe(0);
      await waitFor('the supervisor to exit', () => sup!.proc.exitCode !== null);
      sup = await restartSupervisor(sup);
    }
    const done = await taskEnded<TaskWithHistory>(sup!, task.id, 30_000);
    expect(done.status, `error: ${done.error}`).toBe('completed');
    expect(done.attempts).toBe(1);
    expect(done.attempt).toBe(4);
    expect(causes(done)).toEqual([['supervisor_stopped', false], ['supervisor_stopped', false], ['supervisor_stopped', false], ['completed', true]]);
    expect(done.attempt_history.every((a) => a.agent === 'w' && a.replica === '0' && a.ended_at !== null && a.ended_at >= a.started_at)).toBe(true);
    // task.assign carried the delivery number, and the agent saw 1, 2, 3, 4 (the SDK as ctx.attempt)
    expect(slow.deliveries()).toEqual([1, 2, 3, 4]);
  }, 180_000);

  it.each(AGENTS)('`background restart` of the replica that holds a task gives the attempt back, and the task goes again at once ($kind)', async ({ command }) => {
    sup = await startSupervisor({ queue: { max_attempts: 1, retry_backoff: { initial: 60 } }, agents: [{ name: 'w', command }] });
    const slow = slowFirst(1);
    const task = await submit(sup, { role: 'w', title: 'slow story', payload: slow.payload });
    await waitFor('the first delivery', () => slow.deliveries().length === 1);
    const r = await sup.cli(['background', 'restart', 'w']);
    expect(r.code, r.stderr).toBe(0);
    // max_attempts 1 and a 60 s backoff: only a released attempt can finish this in time
    const done = await inStatus(sup, task.id, 'completed', 30_000);
    expect(causes(done)).toEqual([['operator_restart', false], ['completed', true]]);
    expect(done.attempts).toBe(1);
  }, 120_000);

  it('a crash uses up an attempt, and the retry waits for retry_backoff.initial before it is dispatched', async () => {
    const marker = path.join(tmpdir(), `crash-once-${randomUUID()}`);
    try {
      sup = await startSupervisor({ queue: { retry_backoff: { initial: 1.5, jitter: 0 } }, monitoring: { recovery: { base_delay: 0.1 } }, agents: [{ name: 'w', command: ['node', WORKER] }] });
      const task = await submit(sup, { role: 'w', title: 'crashes once', payload: { crash_once_marker: marker, work_ms: 10 } });
      const done = await inStatus(sup, task.id, 'completed', 30_000);
      expect(causes(done)).toEqual([['crashed', true], ['completed', true]]);
      expect(done.attempts).toBe(2);
      const [first, second] = done.attempt_history;
      expect(first!.detail).toMatch(/^agent w-0 exited \(crash: /);
      expect(second!.started_at - first!.ended_at!).toBeGreaterThanOrEqual(1500);
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('a health restart of the replica that holds a task (it stopped answering pings) uses up the attempt (unhealthy)', async () => {
    sup = await startSupervisor({
      queue: { retry_backoff: { initial: 0.1 } },
      monitoring: { check_interval: 0.5, health_checks: { agent_response: { timeout: 0.5, max_failures: 2 } }, recovery: { restart_unhealthy: true, base_delay: 0.1 } },
      agents: [{ name: 'w', command: ['node', WORKER], heartbeat_interval: 1, stop_timeout: 1 }],
    });
    const slow = slowFirst(1);
    const task = await submit(sup, { role: 'w', title: 'hangs its agent', payload: slow.payload });
    await waitFor('the first delivery', () => slow.deliveries().length === 1);
    const [row] = (await sup.api<{ agents: { pid: number }[] }>('GET', '/api/v1/agents')).body.agents;
    process.kill(row!.pid, 'SIGSTOP');
    const done = await inStatus(sup, task.id, 'completed', 30_000);
    expect(causes(done)).toEqual([['unhealthy', true], ['completed', true]]);
    expect(done.attempts).toBe(2);
  }, 120_000);

  it('a SIGKILLed supervisor does not use up the attempt of the task it was running (supervisor_lost)', async () => {
    sup = await startSupervisor({ queue: { max_attempts: 1 }, agents: [{ name: 'w', command: ['node', WORKER] }] });
    const slow = slowFirst(1);
    const task = await submit(sup, { role: 'w', title: 'slow', payload: slow.payload });
    await waitFor('the first delivery', () => slow.deliveries().length === 1);
    sup.proc.kill('SIGKILL');
    await waitFor('the supervisor to die', () => sup!.proc.signalCode !== null);
    sup = await restartSupervisor(sup);
    const done = await inStatus(sup, task.id, 'completed', 30_000);
    expect(causes(done)).toEqual([['supervisor_lost', false], ['completed', true]]);
  });

  it('cancel then retry from the CLI: the cancelled attempt does not count, the retry is recorded, and wrong ids and states exit 2 with what to do', async () => {
    sup = await startSupervisor({ queue: { max_attempts: 1 }, agents: [{ name: 'w', command: ['node', WORKER] }] });
    const slow = slowFirst(1);
    const task = await submit(sup, { role: 'w', title: 'slow', payload: slow.payload });
    await waitFor('the first delivery', () => slow.deliveries().length === 1);

    const cancel = await sup.cli(['background', 'cancel', task.id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^Cancelled ${task.id} \\(it was running on w-0, which is told to stop\\)`));
    expect((await getTask(sup, task.id)).status).toBe('cancelled');
    const again = await sup.cli(['background', 'cancel', task.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`Task ${task.id} is cancelled: only pending or in_progress tasks can be cancelled. To run it again: agentic-scrum-setup background retry ${task.id}`);

    const retry = await sup.cli(['background', 'retry', task.id, '--reason', 'worker fixed', '--json']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ id: task.id, attempts: 0, retries: [{ cause: 'operator_retry', detail: 'worker fixed', previous_status: 'cancelled', attempts_before: 0, after_attempt: 1 }] });
    const done = await inStatus(sup, task.id, 'completed', 30_000);
    expect(causes(done)).toEqual([['cancelled', false], ['completed', true]]);
    expect(done.attempts).toBe(1);

    const completed = await sup.cli(['background', 'retry', task.id]);
    expect(completed.code).toBe(2);
    expect(completed.stderr).toContain(`Task ${task.id} is completed: only failed or cancelled tasks can be retried.`);
    const unknown = await sup.cli(['background', 'retry', 'NOPE_1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No task NOPE_1 in the queue of the supervisor at http:\/\/127\.0\.0\.1:\d+\. List tasks with: agentic-scrum-setup background tasks/);
    const unknownCancel = await sup.cli(['background', 'cancel', 'NOPE_1']);
    expect(unknownCancel.code).toBe(2);
    expect(unknownCancel.stderr).toMatch(/No task NOPE_1/);
    const bad = await sup.cli(['background', 'retry', 'no spaces']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a task id (letters, digits and _ . : -, as `background tasks` shows it), got "no spaces".');

    const list = await sup.cli(['background', 'tasks']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/TRIES\s+LAST CAUSE/);
    expect(list.stdout).toMatch(new RegExp(`${task.id}\\s+w\\s+completed\\s+5\\s+1 \\(of 2\\)\\s+completed`));
    const json = JSON.parse((await sup.cli(['background', 'tasks', '--json'])).stdout) as TaskWithHistory[];
    expect(json[0]).toMatchObject({ id: task.id, attempts: 1, attempt: 2, not_before: null, retries: [{ detail: 'worker fixed' }] });
    expect(json[0]!.attempt_history).toHaveLength(2);
  }, 180_000);

  it('POST /api/v1/tasks/:id/retry answers JSON errors: 404 unknown, 409 wrong state with the status, 400 bad body', async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] });
    const unknown = await sup.api<{ error: string; reason: string }>('POST', '/api/v1/tasks/NOPE/retry', {});
    expect(unknown).toEqual({ status: 404, body: { error: 'unknown_task', reason: 'No task NOPE in the queue. List tasks with: agentic-scrum-setup background tasks' } });
    const task = await submit(sup, { role: 'w', title: 'quick', payload: { work_ms: 10 } });
    await inStatus(sup, task.id, 'completed');
    const wrong = await sup.api('POST', `/api/v1/tasks/${task.id}/retry`, {});
    expect(wrong).toEqual({ status: 409, body: { error: 'not_retryable', reason: `Task ${task.id} is completed: only failed or cancelled tasks can be retried.`, status: 'completed' } });
    const badBody = await sup.api<{ error: string }>('POST', `/api/v1/tasks/${task.id}/retry`, { reason: 'x', extra: 1 });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toBe('bad_request');
    const noBody = await sup.api('POST', `/api/v1/tasks/${task.id}/retry`);
    expect(noBody.status).toBe(409);
    const noToken = await fetch(`${sup.url}/api/v1/tasks/${task.id}/retry`, { method: 'POST' });
    expect(noToken.status).toBe(401);
  });
});
