import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createRequire } from 'node:module';
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
  if (endpoint) processors.push(new BatchSpanProcessor(new (loadOtlpExporter())()));
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

/**
 * The OTLP/HTTP exporter, loaded only when an endpoint is configured: about 3 MB
 * of RSS (its transport, the protobuf-free JSON serializer and their dependencies)
 * that a supervisor exporting nothing does not need. Synchronous (its CommonJS build)
 * so that `initTracing` stays synchronous.
 */
function loadOtlpExporter(): typeof import('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter {
  const mod = createRequire(import.meta.url)('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  return mod.OTLPTraceExporter;
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
