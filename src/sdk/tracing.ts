import {
  context,
  defaultTextMapGetter,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { parseTraceParent, W3CTraceContextPropagator } from '@opentelemetry/core';
import { SDK_NAME, SDK_VERSION } from './version.js';

const propagator = new W3CTraceContextPropagator();
const TRACER_NAME = `${SDK_NAME}/agent`;

/** Trace ids to bind into log lines; empty when there is no valid trace context. */
export interface TraceIds {
  trace_id?: string;
  span_id?: string;
}

/** The API's global provider is a proxy; it tells whether an application registered a real one. */
type MaybeProxy = TracerProvider & { getDelegateTracer?: (name: string, version?: string) => Tracer | undefined };

/**
 * Runs `fn` inside a `task.run` span whose parent is the W3C `traceparent` (if any).
 * Uses the global tracer: a no-op unless the application registered a provider,
 * in which case the incoming trace id is still propagated. `attributes` is only
 * called when a provider is registered.
 */
export async function withTaskSpan<T>(
  traceparent: string | undefined,
  attributes: () => Attributes,
  fn: (ids: TraceIds, span: Span) => Promise<T>,
): Promise<T> {
  const provider = trace.getTracerProvider() as MaybeProxy;
  const tracer = provider.getDelegateTracer ? provider.getDelegateTracer(TRACER_NAME, SDK_VERSION) : provider.getTracer(TRACER_NAME, SDK_VERSION);
  if (!tracer) return withoutProvider(traceparent, fn);
  const parent = traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
  const span = tracer.startSpan('task.run', { kind: SpanKind.CONSUMER, attributes: attributes() }, parent);
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

/**
 * No tracer provider: what the no-op tracer would do, without its machinery. The span
 * is non-recording and carries the parent's context from `traceparent` (as the no-op
 * tracer's span does), and is the active span while `fn` runs.
 */
function withoutProvider<T>(traceparent: string | undefined, fn: (ids: TraceIds, span: Span) => Promise<T>): Promise<T> {
  const parsed = traceparent ? parseTraceParent(traceparent) : null;
  // Not `{ ...parsed }`: in Node 20 an object spread that outlives the statement makes
  // scavenges keep (and promote) every task's objects until a full GC.
  const span = trace.wrapSpanContext(parsed ? { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.traceFlags, isRemote: true } : INVALID_SPAN_CONTEXT);
  // A non-recording span carries the parent's ids: only the trace id is meaningful then.
  const ids: TraceIds = parsed ? { trace_id: parsed.traceId } : {};
  return context.with(trace.setSpan(ROOT_CONTEXT, span), () => fn(ids, span));
}

function idsOf(span: Span): TraceIds {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  // A non-recording span carries the parent's ids: only the trace id is meaningful then.
  return span.isRecording() ? { trace_id: sc.traceId, span_id: sc.spanId } : { trace_id: sc.traceId };
}
