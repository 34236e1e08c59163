import type { EventEmitter } from 'node:events';
import { SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { RunInfo, SupervisorEvents } from '../supervisor/Supervisor.js';
import { contextFromTraceparent } from './tracing.js';

/** Most `progress` events recorded on one run span (OTel's default event limit is 128). */
const MAX_PROGRESS_EVENTS = 100;

interface OpenRun {
  span: Span;
  events: number;
}

/**
 * A `task.run` span for every per_task run, from the supervisor's run events:
 * child of the run's dispatch span (`RunInfo.traceparent`), so a task's trace reads
 * task.submit → task.dispatch → task.run, and the trace_id exemplar on the task
 * and run metrics leads to the whole story. The span starts when the process is
 * spawned, carries a `progress` event per turn, and ends when it exits with the
 * run's outcome, cause, turns, tokens and cost as attributes, and error status
 * when the run failed.
 */
export class RunSpans {
  private readonly open = new Map<string, OpenRun>();

  private readonly onStarted = (...[r]: SupervisorEvents['runStarted']) => {
    const span = this.tracer.startSpan('task.run', {
      startTime: r.startedAt,
      attributes: {
        'agentic.task.id': r.taskId, 'agentic.agent': r.agent, 'agentic.role': r.role,
        'agentic.replica': r.slot, 'agentic.attempt': r.attempt, 'agentic.mode': 'per_task',
      },
    }, contextFromTraceparent(r.traceparent));
    this.open.get(key(r))?.span.end();
    this.open.set(key(r), { span, events: 0 });
  };

  private readonly onProgress = (...[r]: SupervisorEvents['runProgress']) => {
    const run = this.open.get(key(r));
    if (!run || run.events >= MAX_PROGRESS_EVENTS) return;
    run.events++;
    run.span.addEvent('progress', { 'agentic.llm.turns': r.turns, message: r.message });
  };

  private readonly onFinished = (...[r]: SupervisorEvents['runFinished']) => {
    const run = this.open.get(key(r));
    if (!run) return;
    this.open.delete(key(r));
    const { span } = run;
    span.setAttribute('agentic.run.outcome', r.outcome);
    if (r.cause) span.setAttribute('agentic.run.cause', r.cause);
    const llm = r.llm;
    const set = (name: string, v: unknown) => { if (typeof v === 'number' && Number.isFinite(v)) span.setAttribute(name, v); };
    set('agentic.llm.turns', llm?.num_turns);
    set('agentic.llm.cost_usd', llm?.total_cost_usd);
    set('gen_ai.usage.input_tokens', llm?.usage?.input_tokens);
    set('gen_ai.usage.output_tokens', llm?.usage?.output_tokens);
    set('agentic.llm.cache_creation_tokens', llm?.usage?.cache_creation_input_tokens);
    set('agentic.llm.cache_read_tokens', llm?.usage?.cache_read_input_tokens);
    if (r.outcome === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: r.error ?? r.cause ?? 'run failed' });
    span.end(r.startedAt + Math.max(0, r.durationMs));
  };

  constructor(private readonly sup: Pick<EventEmitter<SupervisorEvents>, 'on' | 'off'>, private readonly tracer: Tracer) {
    sup.on('runStarted', this.onStarted);
    sup.on('runProgress', this.onProgress);
    sup.on('runFinished', this.onFinished);
  }

  /** Detaches, ending the spans of runs still open (marked unfinished). Idempotent. */
  close(): void {
    this.sup.off('runStarted', this.onStarted);
    this.sup.off('runProgress', this.onProgress);
    this.sup.off('runFinished', this.onFinished);
    for (const { span } of this.open.values()) {
      span.setAttribute('agentic.run.outcome', 'unfinished');
      span.end();
    }
    this.open.clear();
  }
}

const key = (r: RunInfo) => `${r.agent}\u0000${r.taskId}`;
