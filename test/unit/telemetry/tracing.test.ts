import { trace, TraceFlags } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { IdTracer, contextFromTraceparent, initTracing, traceparentOf } from '../../../src/telemetry/tracing.js';

afterEach(() => trace.disable());

describe('IdTracer (a supervisor that exports nothing)', () => {
  const tracer = new IdTracer();

  it('gives a root span a fresh, valid trace id and span id, sampled', () => {
    const a = tracer.startSpan('task.submit').spanContext();
    const b = tracer.startSpan('task.submit').spanContext();
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.traceFlags).toBe(TraceFlags.SAMPLED);
    expect(traceparentOf(tracer.startSpan('x'))).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("keeps a child in its parent's trace through the traceparent an agent is given, with a span id of its own and the parent's flags", () => {
    const parent = tracer.startSpan('task.dispatch');
    const child = tracer.startSpan('task.run', {}, contextFromTraceparent(traceparentOf(parent)));
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.spanContext().spanId).not.toBe(parent.spanContext().spanId);
    const unsampled = tracer.startSpan('x', {}, contextFromTraceparent(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`));
    expect(unsampled.spanContext()).toMatchObject({ traceId: 'a'.repeat(32), traceFlags: TraceFlags.NONE });
    // `root: true` starts a new trace whatever the context holds, as the SDK does.
    expect(tracer.startSpan('x', { root: true }, contextFromTraceparent(traceparentOf(parent))).spanContext().traceId).not.toBe(parent.spanContext().traceId);
  });

  it('records nothing: attributes, events and status are accepted and dropped', () => {
    const span = tracer.startSpan('x');
    expect(span.isRecording()).toBe(false);
    span.setAttribute('a', 1).addEvent('e').setStatus({ code: 2 }).end();
  });

  it('startActiveSpan passes the span, with or without options and a context, and returns what the function returns', () => {
    expect(tracer.startActiveSpan('a', (s) => s.spanContext().traceId)).toMatch(/^[0-9a-f]{32}$/);
    const parent = tracer.startSpan('p');
    const ctx = contextFromTraceparent(traceparentOf(parent));
    expect(tracer.startActiveSpan('b', {}, ctx, (s) => s.spanContext().traceId)).toBe(parent.spanContext().traceId);
    expect(tracer.startActiveSpan('c', {}, () => 42)).toBe(42);
  });
});

describe('initTracing', () => {
  it('without an endpoint or processors: exports nothing and registers the id-only tracer globally', async () => {
    const t = await initTracing('svc', {});
    expect(t.exporting).toBe(false);
    expect(t.tracer).toBeInstanceOf(IdTracer);
    expect(trace.getTracer('any').startSpan('x').spanContext().traceId).toMatch(/^(?!0+$)[0-9a-f]{32}$/);
    await t.shutdown();
  });

  it('with a span processor: the SDK records the spans, in the same trace as their traceparent parent', async () => {
    const ended: { name: string; traceId: string; attributes: Record<string, unknown> }[] = [];
    const processor = {
      onStart: () => undefined,
      onEnd: (s: { name: string; spanContext(): { traceId: string }; attributes: Record<string, unknown> }) => { ended.push({ name: s.name, traceId: s.spanContext().traceId, attributes: s.attributes }); },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const t = await initTracing('svc', {}, [processor as never]);
    expect(t.exporting).toBe(true);
    expect(t.tracer).not.toBeInstanceOf(IdTracer);
    const parent = t.tracer.startSpan('task.dispatch');
    t.tracer.startSpan('task.run', { attributes: { 'agentic.task.id': 't1' } }, contextFromTraceparent(traceparentOf(parent))).end();
    expect(ended).toEqual([{ name: 'task.run', traceId: parent.spanContext().traceId, attributes: { 'agentic.task.id': 't1' } }]);
    await t.shutdown();
  });
});
