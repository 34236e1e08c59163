import { describe, expect, it } from 'vitest';
import { agentMessage } from '../../src/protocol/messages.js';
import type { AgentMessageInput } from '../../src/protocol/messages.js';
import { createAgentLogger } from '../../src/sdk/logger.js';
import { runWork } from '../../src/sdk/runWork.js';
import { stepDigest, stepMessage, stepSummary } from '../../src/sdk/stepMessage.js';
import { parseSupervisorLine } from '../../src/sdk/supervisorMessage.js';
import { TaskAbort } from '../../src/sdk/TaskAbort.js';

describe('Node SDK: ctx.step()', () => {
  it('digests canonical JSON (key order does not matter, content does) and summarises the input in one short line', () => {
    expect(stepDigest({ b: 1, a: [1, { y: 2, x: 1 }] })).toBe(stepDigest({ a: [1, { x: 1, y: 2 }], b: 1 }));
    expect(stepDigest('building: 10 %')).not.toBe(stepDigest('building: 20 %'));
    expect(stepSummary({ path: 'note.txt', lines: [1, 2] })).toBe('note.txt');
    expect(stepSummary('  a\n b ')).toBe('a b');
    expect(stepSummary('x'.repeat(500))).toHaveLength(80);
    expect(stepSummary(undefined)).toBeUndefined();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(stepDigest(circular)).toMatch(/^[0-9a-f]{64}$/); // described, never thrown
    const m = stepMessage('T-1', 'x'.repeat(300), { path: 'a' }, 'out');
    expect(agentMessage.safeParse(m).success).toBe(true); // within the protocol's limits
  });

  it('sends task.step only when the supervisor said it watches steps (welcome.settings.task_steps)', async () => {
    expect(parseSupervisorLine('{"type":"welcome","protocol":1,"agent":{},"checkpoint":null,"settings":{"task_steps":true}}')).toMatchObject({ ok: true, message: { settings: { task_steps: true } } });
    expect(parseSupervisorLine('{"type":"welcome","protocol":1,"agent":{},"checkpoint":null,"settings":{}}')).toMatchObject({ ok: true, message: { settings: { task_steps: false } } });
    const logger = createAgentLogger({ agent: 'a', agent_id: 'a-0', role: 'a' }, 'silent');
    const sentWith = async (steps: boolean) => {
      const sent: AgentMessageInput[] = [];
      await runWork({ taskId: 'T-1', correlationId: 'c', attributes: {}, abort: new TaskAbort(), steps }, (m) => sent.push(m), logger, (ctx) => {
        ctx.step('read_file', { path: 'note.txt' }, 'same');
        const { step } = ctx; // detached, like progress
        step('read_file', { path: 'note.txt' }, 'same');
      });
      return sent.filter((m) => m.type === 'task.step');
    };
    expect(await sentWith(false)).toEqual([]);
    const steps = await sentWith(true);
    expect(steps).toEqual([stepMessage('T-1', 'read_file', { path: 'note.txt' }, 'same'), stepMessage('T-1', 'read_file', { path: 'note.txt' }, 'same')]);
    expect(steps[0]).toMatchObject({ name: 'read_file', summary: 'note.txt' });
  });
});
