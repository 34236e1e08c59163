import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlpReceiver.js';

const FAKE = path.join(ROOT, 'examples/agents/fake-claude.mjs');

describe('traces across the supervisor → agent boundary (real OTLP/HTTP receiver)', () => {
  let sup: RunningSupervisor;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    sup = await startSupervisor({
      agents: [
        { name: 'qaa', command: ['node', path.join(ROOT, 'examples/agents/qaa.mjs')], heartbeat_interval: 1 },
        { name: 'per', mode: 'per_task', command: ['node', '-e', 'console.log("traceparent=" + process.env.TRACEPARENT)'] },
        { name: 'deva', mode: 'per_task', command: ['node', FAKE, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '0', FAKE_CLAUDE_TURNS: '3' } },
        { name: 'failing', mode: 'per_task', command: ['node', FAKE, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '0', FAKE_CLAUDE_FAIL: '1' } },
      ],
      queue: { max_attempts: 1 },
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

  it('chains task.submit → task.dispatch → task.run for a per_task claude run, with turns, tokens and cost on the run span', async () => {
    const { body } = await sup.api<{ task: { id: string; correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'deva', title: 'story', prompt: 'Add coupon validation' });
    const trace = body.task.correlation_id;
    const byName = (n: string) => otlp.spans.find((s) => s.traceId === trace && s.name === n) as ReceivedSpan;
    await waitFor('the per_task run span', () => byName('task.run'), 30_000);
    const done = (await sup.api<{ task: { llm: { total_cost_usd: number; num_turns: number; usage: Record<string, number> } } }>('GET', `/api/v1/tasks/${body.task.id}`)).body.task;
    const submit = byName('task.submit');
    const dispatch = byName('task.dispatch');
    const run = byName('task.run');
    expect(dispatch.parentSpanId).toBe(submit.spanId);
    expect(run.parentSpanId).toBe(dispatch.spanId);
    expect(run.service).toBe('agentic-supervisor');
    const attr = (s: ReceivedSpan, k: string) => s.attributes?.find((a) => a.key === k)?.value;
    expect(attr(run, 'agentic.task.id')?.stringValue).toBe(body.task.id);
    expect(attr(run, 'agentic.replica')?.stringValue).toBe('0');
    expect(attr(run, 'agentic.run.outcome')?.stringValue).toBe('completed');
    expect(Number(attr(run, 'agentic.llm.turns')?.intValue)).toBe(3);
    expect(attr(run, 'agentic.llm.cost_usd')?.doubleValue).toBe(done.llm.total_cost_usd);
    expect(Number(attr(run, 'gen_ai.usage.output_tokens')?.intValue)).toBe(done.llm.usage.output_tokens);
    expect((run.events ?? []).filter((e) => e.name === 'progress').length).toBe(5); // one per assistant line: 2 tool turns of a text and a tool block, then the final text
    expect(run.status?.code ?? 0).not.toBe(2);
    // the trace_id exemplar on the run counter leads to this trace
    const om = await (await fetch(`${sup.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    expect(om).toMatch(new RegExp(`^agentic_task_runs_total\\{agent="deva",role="deva",outcome="completed",cause="none"\\} 1 # \\{trace_id="${trace}"\\}`, 'm'));
  });

  it('marks the run span of a failed per_task run with error status and the subtype', async () => {
    const { body } = await sup.api<{ task: { correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'failing', title: 'story', prompt: 'x' });
    const run = await waitFor('the failed run span', () => otlp.spans.find((s) => s.traceId === body.task.correlation_id && s.name === 'task.run'), 30_000);
    expect(run.status?.code).toBe(2);
    expect(run.status?.message).toMatch(/^claude result error_during_execution after \d+ turns?: Tool execution failed/);
    expect(run.attributes?.find((a) => a.key === 'agentic.run.outcome')?.value.stringValue).toBe('failed');
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
