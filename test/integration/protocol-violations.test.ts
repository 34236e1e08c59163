import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * docs/protocol.md, "Agent → supervisor": reports about a task another process holds
 * change nothing. A meddling agent (bash, no `tasks` capability) reports progress and
 * a finish for the task a worker holds: the task keeps the worker's progress and
 * stays in progress, and the finish is the unknown_task protocol error.
 */
const MEDDLER = `
fd=$AGENTIC_PROTOCOL_FD
printf '%s\\n' "{\\"type\\":\\"hello\\",\\"protocol\\":1,\\"pid\\":$$,\\"capabilities\\":[]}" >&$fd
read -r welcome <&$fd
while :; do
  printf '%s\\n' '{"type":"heartbeat"}' '{"type":"task.progress","task_id":"T-HELD","progress":0.99,"message":"not mine"}' '{"type":"task.finished","task_id":"T-HELD","duration_ms":1}' >&$fd
  sleep 0.3
done`;

describe('reports on a task the process does not hold', () => {
  let sup: RunningSupervisor;
  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'worker', command: ['python3', path.join(ROOT, 'examples/agents/plain_agent.py')], heartbeat_interval: 1, stop_timeout: 2 },
        { name: 'meddler', command: ['bash', '-c', MEDDLER], heartbeat_interval: 1, stop_timeout: 2 },
      ],
    });
  });
  afterAll(() => cleanup(sup));

  it('another process\'s task.progress and task.finished change nothing; the finish counts as unknown_task', async () => {
    const submitted = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { id: 'T-HELD', role: 'worker', title: 'long', payload: { work_ms: 20_000 } });
    expect(submitted.status).toBe(201);
    await waitFor('the worker to report progress', async () => {
      const t = await sup.api<{ task: { status: string; progress: number | null; progress_message: string | null } }>('GET', '/api/v1/tasks/T-HELD');
      return t.body.task.progress_message?.startsWith('step ') ? t : undefined;
    }, 30_000);
    await waitFor('unknown_task errors from the meddler', async () => {
      const text = await (await fetch(`${sup.url}/metrics`)).text();
      return (parseExposition(text, 'prometheus').value('agentic_protocol_errors_total', { agent: 'meddler', reason: 'unknown_task' }) ?? 0) >= 2;
    }, 30_000);
    const t = await sup.api<{ task: { status: string; progress: number | null; progress_message: string | null } }>('GET', '/api/v1/tasks/T-HELD');
    expect(t.body.task.status).toBe('in_progress');
    expect(t.body.task.progress_message).toMatch(/^step \d of 4$/);
    expect(t.body.task.progress).not.toBe(0.99);
  }, 90_000);
});
