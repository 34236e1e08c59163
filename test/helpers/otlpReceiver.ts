import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The OTLP/JSON ExportTraceServiceRequest fields we assert on (opentelemetry-proto trace/v1). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number; doubleValue?: number } }[];
  events?: { name: string }[];
  /** code 0 unset, 1 ok, 2 error. */
  status?: { code?: number; message?: string };
}
interface ExportTraceServiceRequest {
  resourceSpans?: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}
export interface ReceivedSpan extends OtlpSpan { service: string }

/**
 * A real OTLP/HTTP trace receiver on loopback: accepts POST /v1/traces with the
 * JSON encoding (what @opentelemetry/exporter-trace-otlp-http sends), decodes each
 * ExportTraceServiceRequest and keeps the spans with their resource's service.name.
 */
export async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const msg = JSON.parse(body) as ExportTraceServiceRequest;
      for (const rs of msg.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((r) => server.close(() => r())) };
}
