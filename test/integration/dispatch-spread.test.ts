import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/queue/Task.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

const SDK_AGENT = path.join(ROOT, 'test/fixtures/agents/taskAgent.mjs');

interface AgentRow { replica: string; state: string; protocol: boolean; task: { id: string } | null }

const getTask = async (sup: RunningSupervisor, id: string) => (await sup.api<{ task: Task }>('GET', `/api/v1/tasks/${id}`)).body.task;
const submit = async (sup: RunningSupervisor, body: Record<string, unknown>) => {
  const r = await sup.api<{ task: Task }>('POST', '/api/v1/tasks', body);
  expect(r.status).toBe(201);
  return r.body.task;
};
const completed = (sup: RunningSupervisor, id: string) =>
  waitFor(`${id} completed`, async () => {
    const t = await getTask(sup, id);
    return t.status === 'completed' ? t : undefined;
  });

describe('dispatch spreads tasks across idle replicas (least recently used)', () => {
  let sup: RunningSupervisor;

  beforeAll(async () => {
    sup = await startSupervisor({ agents: [{ name: 'qaa', replicas: 2, command: ['node', SDK_AGENT] }] });
    // Both replicas said hello with the `tasks` capability before any task is queued.
    await waitFor('both qaa replicas to speak the protocol', async () => {
      const rows = (await sup.api<{ agents: AgentRow[] }>('GET', '/api/v1/agents')).body.agents;
      return rows.length === 2 && rows.every((r) => r.state === 'running' && r.protocol);
    });
  });

  afterAll(() => cleanup(sup));

  it('gives tasks that arrive one at a time to both replicas in turn (the demo gave all 142 to qaa-0)', async () => {
    const assigned: string[] = [];
    for (let i = 0; i < 6; i++) {
      const t = await submit(sup, { role: 'qaa', title: `one at a time ${i}`, payload: { steps: 1 } });
      assigned.push((await completed(sup, t.id)).assigned_to ?? '');
    }
    expect(new Set(assigned)).toEqual(new Set(['qaa-0', 'qaa-1']));
    // Each task finished before the next was submitted, so both were idle every time: they alternate.
    for (let i = 1; i < assigned.length; i++) expect(assigned[i], assigned.join(' ')).not.toBe(assigned[i - 1]);
  });

  it('runs a burst on both replicas at once', async () => {
    const tasks = [];
    for (let i = 0; i < 4; i++) tasks.push(await submit(sup, { role: 'qaa', title: `burst ${i}`, payload: { sleep_ms: 300 } }));
    const done = await Promise.all(tasks.map((t) => completed(sup, t.id)));
    const counts = new Map<string, number>();
    for (const t of done) counts.set(t.assigned_to ?? '', (counts.get(t.assigned_to ?? '') ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['qaa-0', 'qaa-1']);
  });
});
