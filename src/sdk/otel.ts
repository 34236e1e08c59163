import type { Agent } from './Agent.js';

/**
 * Exports the agent's spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, and does nothing otherwise: the
 * OTel SDK is only loaded then, so plain agents start fast. An application that
 * registers its own tracer provider first keeps it. Spans are flushed on shutdown.
 */
export async function maybeExportTraces(env: NodeJS.ProcessEnv, serviceName: string): Promise<((agent: Agent) => void) | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const api = await import('@opentelemetry/api');
  // A provider registered by the application wins (the global is a proxy around a no-op until then).
  const global = api.trace.getTracerProvider() as { getDelegate?: () => object };
  if (global.getDelegate && global.getDelegate().constructor.name !== 'NoopTracerProvider') return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  });
  provider.register();
  return (agent) => {
    agent.onShutdown(() => provider.shutdown().catch(() => undefined));
  };
}
