import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface Tracing {
  tracer: Tracer;
  /** True when spans are exported (OTLP endpoint configured). */
  exporting: boolean;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

/**
 * Sets up tracing for the supervisor. Spans always get real trace ids (the
 * correlation ids); they are exported over OTLP/HTTP only when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set,
 * and otherwise dropped at near-zero cost.
 */
export function initTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env, extra: SpanProcessor[] = []): Tracing {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const processors: SpanProcessor[] = [...extra];
  if (endpoint) processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors: processors });
  provider.register();
  let done = false;
  return {
    tracer: trace.getTracer('agentic-supervisor'),
    exporting: processors.length > 0,
    async shutdown() {
      if (done) return;
      done = true;
      await provider.shutdown().catch(() => undefined);
    },
  };
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
