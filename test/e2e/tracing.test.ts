import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlpReceiver.js';

describe('traces across the supervisor → agent boundary (real OTLP/HTTP receiver)', () => {
  let sup: RunningSupervisor;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    sup = await startSupervisor({
      agents: [
        { name: 'qaa', command: ['node', path.join(ROOT, 'examples/agents/qaa.mjs')], heartbeat_interval: 1 },
        { name: 'per', mode: 'per_task', command: ['node', '-e', 'console.log("traceparent=" + process.env.TRACEPARENT)'] },
      ],
    }, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '200' } });
    await waitFor('qaa connected', async () => (await sup.api<{ agents: { agent: string; protocol: boolean }[] }>('GET', '/api/v1/agents')).body.agents.find((a) => a.agent === 'qaa')?.protocol);
  });
  afterAll(async () => { cleanup(sup); await otlp.close(); });

  it('chains task.submit → task.queue / task.dispatch → task.run (in the agent) under one trace id, the correlation id', async () => {
    const { body } = await sup.api<{ task: { id: string; correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'qaa', title: 'traced', payload: { work_ms: 300 } });
    const trace = body.task.correlation_id;
    const spansOf = () => otlp.spans.filter((s) => s.traceId === trace);
    const byName = (n: string) => spansOf().find((s) => s.name === n) as ReceivedSpan;
    await waitFor('all four spans', () => ['task.submit', 'task.queue', 'task.dispatch', 'task.run'].every((n) => byName(n)), 20_000);
    const submit = byName('task.submit');
    expect(submit.service).toBe('agentic-supervisor');
    expect(submit.parentSpanId ?? '').toBe('');
    expect(byName('task.queue').parentSpanId).toBe(submit.spanId);
    expect(byName('task.dispatch').parentSpanId).toBe(submit.spanId);
    const run = byName('task.run');
    expect(run.service).toBe('agent:qaa');
    expect(run.parentSpanId).toBe(byName('task.dispatch').spanId);
    expect(run.attributes?.find((a) => a.key === 'task.id')?.value.stringValue).toBe(body.task.id);
    expect((run.events ?? []).filter((e) => e.name === 'progress').length).toBeGreaterThan(0);
  });

  it('gives a per_task process the task\'s TRACEPARENT', async () => {
    const { body } = await sup.api<{ task: { id: string; correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'per', title: 'p' });
    const r = await waitFor('the per_task log line', async () => {
      const x = await sup.cli(['background', 'logs', 'per', '--task', body.task.id, '--json']);
      return x.stdout.includes('traceparent=') ? x.stdout : undefined;
    });
    expect(r).toMatch(new RegExp(`traceparent=00-${body.task.correlation_id}-[0-9a-f]{16}-01`));
  });
});
