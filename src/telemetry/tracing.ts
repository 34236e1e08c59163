import { randomBytes } from 'node:crypto';
import { context, isSpanContextValid, trace, TraceFlags, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  tracer: Tracer;
  /** True when spans are recorded and exported (OTLP endpoint configured, or extra processors given). */
  exporting: boolean;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

/**
 * Sets up tracing for the supervisor. Spans always get real trace ids (the
 * correlation ids, the exemplars, the `traceparent` each agent is given). They are
 * recorded and exported over OTLP/HTTP only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, or when `extra` processors are given.
 *
 * With neither, the OpenTelemetry SDK is not loaded at all: {@link IdTracer} gives
 * every span fresh W3C ids and records nothing. The SDK (its tracer provider, the
 * async-hooks context manager, resources and semantic conventions) is about 3.5 MB
 * of the daemon's RSS that a supervisor exporting nothing does not need
 * (docs/benchmarks.md, "Issue 13").
 */
export async function initTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env, extra: SpanProcessor[] = []): Promise<Tracing> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint && extra.length === 0) {
    const tracer = new IdTracer();
    trace.setGlobalTracerProvider({ getTracer: () => tracer });
    return { tracer, exporting: false, shutdown: async () => { trace.disable(); } };
  }
  const [{ resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([import('@opentelemetry/resources'), import('@opentelemetry/sdk-trace-node')]);
  const processors: SpanProcessor[] = [...extra];
  if (endpoint) {
    // The OTLP/HTTP exporter (its transport, the JSON serializer and their dependencies) only when an endpoint is set.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors: processors });
  provider.register();
  let done = false;
  return {
    tracer: trace.getTracer('agentic-supervisor'),
    exporting: true,
    async shutdown() {
      if (done) return;
      done = true;
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/**
 * A tracer for a supervisor that exports nothing: each span is the API's non-recording
 * span around a fresh span id, in its parent's trace (from the context it is started
 * in, unless `root`) or a new one, sampled as the SDK's default parent-based always-on sampler would
 * mark it. Attributes, events and status go nowhere, as the SDK would drop them with
 * no processor.
 */
export class IdTracer implements Tracer {
  startSpan(_name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = options?.root ? undefined : trace.getSpanContext(ctx);
    if (parent && isSpanContextValid(parent)) return trace.wrapSpanContext({ traceId: parent.traceId, spanId: randomHex(8), traceFlags: parent.traceFlags });
    return trace.wrapSpanContext({ traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const ctx = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

/** `bytes` random bytes as lowercase hex, never all zero (an invalid W3C id). */
function randomHex(bytes: 8 | 16): string {
  for (;;) {
    const b = randomBytes(bytes);
    if (b.some((x) => x !== 0)) return b.toString('hex');
  }
}

/** The W3C `traceparent` of a span. */
export function traceparentOf(span: Span): string {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(context.active(), span), carrier, { set: (c, k, v) => { c[k] = v; } });
  return carrier.traceparent ?? '';
}

/** A context whose parent is the span described by `traceparent` (or the active one if invalid). */
export function contextFromTraceparent(traceparent: string | null | undefined) {
  if (!traceparent) return context.active();
  return propagator.extract(context.active(), { traceparent }, { get: (c, k) => c[k as keyof typeof c], keys: (c) => Object.keys(c) });
}
