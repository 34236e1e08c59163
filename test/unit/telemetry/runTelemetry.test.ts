import { EventEmitter } from 'node:events';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSchema } from '../../../src/config/schema.js';
import { taskStats } from '../../../src/queue/taskStats.js';
import { openDatabase } from '../../../src/store/Database.js';
import { RunLedger } from '../../../src/store/RunLedger.js';
import { RunBook } from '../../../src/supervisor/RunBook.js';
import type { RunInfo, SupervisorEvents } from '../../../src/supervisor/Supervisor.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/MetricsRegistry.js';
import { parseExposition } from '../../../src/telemetry/metrics/parseExposition.js';
import type { SupervisorView } from '../../../src/telemetry/metrics/source.js';
import { RunSpans } from '../../../src/telemetry/runSpans.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const deva = agentSchema.parse({ name: 'deva_ts', role: 'dev', mode: 'per_task', command: ['claude'], max_concurrent: 2, stdout_adapter: 'claude-stream-json' });

function fakeSupervisor() {
  return Object.assign(new EventEmitter<SupervisorEvents>(), {
    replicas: [], perTask: [{ config: deva, role: 'dev', runs: new Map(), stopping: false }], roles: ['dev'],
    sampler: { get: () => undefined, lastRoundDurationMs: 0 }, queue: undefined, policy: {},
  }) satisfies SupervisorView;
}
const info = (taskId: string, attempt: number, slot = '0'): RunInfo => ({ agent: 'deva_ts', role: 'dev', slot, taskId, traceparent: `00-${TRACE}-${PARENT}-01`, attempt, startedAt: T0 });
const llm = (cost: number, turns: number, output: number) => ({ total_cost_usd: cost, num_turns: turns, usage: { input_tokens: 10, output_tokens: output, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 } });

/** A task that fails once (an error result with its cost) and then completes. */
function failThenSucceed(sup: EventEmitter<SupervisorEvents>): void {
  sup.emit('runStarted', info('T1', 1));
  sup.emit('runProgress', { ...info('T1', 1), turns: 1, message: 'tool: Read note.txt', usage: { input_tokens: 10, output_tokens: 50 } });
  sup.emit('runFinished', { ...info('T1', 1), outcome: 'failed', cause: 'agent_failed', durationMs: 2000, llm: llm(0.02, 1, 50), error: 'claude result error_during_execution after 1 turn: EACCES' });
  sup.emit('runStarted', { ...info('T1', 2), startedAt: T0 + 5000 });
  sup.emit('runFinished', { ...info('T1', 2), startedAt: T0 + 5000, outcome: 'completed', durationMs: 40_000, llm: llm(0.06, 3, 300) });
}

describe('per_task run metrics', () => {
  let m: MetricsRegistry | undefined;
  afterEach(() => m?.close());

  it('count runs by outcome and cause from 0, observe duration, cost, turns and tokens per run, and runs in flight', async () => {
    const sup = fakeSupervisor();
    m = new MetricsRegistry({ sup, defaultMetrics: false });
    const scrape = async () => parseExposition(await (m as MetricsRegistry).render('openmetrics'), 'openmetrics');
    const base = { agent: 'deva_ts', role: 'dev' };
    let p = await scrape();
    for (const [outcome, cause] of [['completed', 'none'], ['failed', 'agent_failed'], ['failed', 'timeout'], ['failed', 'stalled'], ['released', 'operator_restart'], ['released', 'supervisor_stopped']]) {
      expect(p.value('agentic_task_runs_total', { ...base, outcome: outcome as string, cause: cause as string }), `${outcome}/${cause}`).toBe(0);
    }
    expect(p.value('agentic_stdout_lines_oversized_total', base)).toBe(0);
    sup.emit('runStarted', info('T1', 1));
    expect((await scrape()).value('agentic_task_runs_in_flight', base)).toBe(1);
    sup.emit('runFinished', { ...info('T1', 1), outcome: 'failed', cause: 'timeout', durationMs: 600_000, error: 'timed out after 600 s' });
    failThenSucceed(sup);
    sup.emit('stdoutOversized', { ...base, slot: '0', taskId: 'T1', bytes: 70_000_000, limit: 67_108_864 });
    p = await scrape();
    expect(p.value('agentic_task_runs_in_flight', base)).toBe(0);
    expect(p.value('agentic_task_runs_total', { ...base, outcome: 'failed', cause: 'timeout' })).toBe(1);
    expect(p.value('agentic_task_runs_total', { ...base, outcome: 'failed', cause: 'agent_failed' })).toBe(1);
    const completed = p.sample('agentic_task_runs_total', { ...base, outcome: 'completed', cause: 'none' });
    expect(completed?.value).toBe(1);
    expect(completed?.exemplar?.labels).toEqual({ trace_id: TRACE });
    expect(p.value('agentic_task_run_duration_seconds_count', { ...base, outcome: 'failed' })).toBe(2);
    expect(p.value('agentic_task_run_duration_seconds_sum', { ...base, outcome: 'completed' })).toBe(40);
    expect(p.value('agentic_task_run_cost_usd_count', base)).toBe(2);
    expect(p.value('agentic_task_run_cost_usd_sum', base)).toBeCloseTo(0.08, 10);
    expect(p.value('agentic_task_run_cost_usd_bucket', { ...base, le: '0.025' })).toBe(1);
    expect(p.value('agentic_task_run_turns_sum', base)).toBe(4);
    expect(p.value('agentic_task_run_tokens_sum', { ...base, type: 'output' })).toBe(350);
    expect(p.value('agentic_stdout_lines_oversized_total', base)).toBe(1);
  });
});

describe('task.run spans', () => {
  it('are children of the dispatch span, carry turns, tokens and cost, and error status on failure', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const sup = new EventEmitter<SupervisorEvents>();
    const spans = new RunSpans(sup, provider.getTracer('test'));
    failThenSucceed(sup);
    spans.close();
    const [failed, ok] = exporter.getFinishedSpans();
    for (const s of [failed, ok]) {
      expect(s?.name).toBe('task.run');
      expect(s?.spanContext().traceId).toBe(TRACE);
      expect(s?.parentSpanContext?.spanId).toBe(PARENT);
    }
    expect(failed?.attributes).toMatchObject({ 'agentic.task.id': 'T1', 'agentic.attempt': 1, 'agentic.replica': '0', 'agentic.run.outcome': 'failed', 'agentic.run.cause': 'agent_failed', 'agentic.llm.turns': 1, 'agentic.llm.cost_usd': 0.02, 'gen_ai.usage.output_tokens': 50 });
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'claude result error_during_execution after 1 turn: EACCES' });
    expect(failed?.events.map((e) => e.attributes)).toEqual([{ 'agentic.llm.turns': 1, message: 'tool: Read note.txt' }]);
    expect(ok?.attributes).toMatchObject({ 'agentic.attempt': 2, 'agentic.run.outcome': 'completed', 'agentic.llm.turns': 3, 'agentic.llm.cost_usd': 0.06, 'gen_ai.usage.input_tokens': 10 });
    expect(ok?.status.code).toBe(SpanStatusCode.UNSET);
    // the span covers the run: spawn to exit
    expect(ok?.startTime).toEqual([Math.floor((T0 + 5000) / 1000), ((T0 + 5000) % 1000) * 1e6]);
    expect(ok?.endTime).toEqual([Math.floor((T0 + 45_000) / 1000), ((T0 + 45_000) % 1000) * 1e6]);
  });
});

describe('the run book and `background metrics`', () => {
  it('keep runs in flight with turns and tokens so far, every finished run durably, and sum every attempt\'s usage', () => {
    const db = openDatabase(':memory:');
    const sup = new EventEmitter<SupervisorEvents>();
    const book = new RunBook(sup, new RunLedger(db));
    sup.emit('runStarted', info('T1', 1, '1'));
    sup.emit('runProgress', { ...info('T1', 1, '1'), turns: 2, message: 'tool: Bash npm test', usage: { input_tokens: 10, output_tokens: 50 } });
    expect(book.running('deva_ts')).toEqual([expect.objectContaining({ slot: '1', taskId: 'T1', turns: 2, message: 'tool: Bash npm test', usage: { input_tokens: 10, output_tokens: 50 } })]);
    sup.emit('runFinished', { ...info('T1', 1, '1'), outcome: 'released', cause: 'operator_restart', durationMs: 100 });
    expect(book.running('deva_ts')).toEqual([]);
    failThenSucceed(sup);
    expect(book.last('deva_ts')).toMatchObject({ task_id: 'T1', attempt: 2, outcome: 'completed', cost_usd: 0.06, turns: 3, output_tokens: 300, finished_at: T0 + 45_000 });
    const [dev] = taskStats(db, T0 - 1000, T0 + 60_000);
    expect(dev?.role).toBe('dev');
    expect(dev?.llm).toEqual({ cost_usd: 0.08, turns: 4, input_tokens: 20, output_tokens: 350, cache_tokens: 2200, runs: 3 });
    book.close();
    db.close();
  });
});
