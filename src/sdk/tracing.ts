import {
  context,
  defaultTextMapGetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { SDK_NAME, SDK_VERSION } from './version.js';

const propagator = new W3CTraceContextPropagator();

/** Trace ids to bind into log lines; empty when there is no valid trace context. */
export interface TraceIds {
  trace_id?: string;
  span_id?: string;
}

/**
 * Runs `fn` inside a `task.run` span whose parent is the W3C `traceparent` (if any).
 * Uses the global tracer: a no-op unless the application registered a provider,
 * in which case the incoming trace id is still propagated.
 */
export async function withTaskSpan<T>(
  traceparent: string | undefined,
  attributes: Attributes,
  fn: (ids: TraceIds, span: Span) => Promise<T>,
): Promise<T> {
  const parent = traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
  const tracer = trace.getTracer(`${SDK_NAME}/agent`, SDK_VERSION);
  const span = tracer.startSpan('task.run', { kind: SpanKind.CONSUMER, attributes }, parent);
  try {
    const result = await context.with(trace.setSpan(parent, span), () => fn(idsOf(span), span));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

function idsOf(span: Span): TraceIds {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  // A non-recording span carries the parent's ids: only the trace id is meaningful then.
  return span.isRecording() ? { trace_id: sc.traceId, span_id: sc.spanId } : { trace_id: sc.traceId };
}
