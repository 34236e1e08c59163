import { Registry, type OpenMetricsContentType, type PrometheusContentType } from 'prom-client';

/** The two exposition formats GET /metrics serves. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, PrometheusContentType | OpenMetricsContentType>> = Object.freeze({
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
});

/**
 * Picks the format from an HTTP Accept header: OpenMetrics when the client ranks
 * `application/openmetrics-text` (version 1.0.0, 0.0.1 or none) at least as high as
 * anything we can serve as Prometheus text (`text/plain`, `text/*`, `*∕*`), else the
 * Prometheus text format (also with no header or nothing acceptable). Equal
 * quality: the earlier entry wins. Prometheus 2.x sends
 * `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,…`.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus';
  let best: { format: ExpositionFormat; q: number } | undefined;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const param = (k: string) => params.find((p) => p.startsWith(`${k}=`))?.slice(k.length + 1).replace(/^"|"$/g, '');
    const q = param('q') === undefined ? 1 : Number(param('q'));
    if (!Number.isFinite(q) || q <= 0) continue;
    let format: ExpositionFormat | undefined;
    if (type === 'application/openmetrics-text') {
      const v = param('version');
      if (v === undefined || v === '1.0.0' || v === '0.0.1') format = 'openmetrics';
    } else if (type === 'text/plain' || type === 'text/*' || type === '*/*') {
      format = 'prometheus';
    }
    if (format && (!best || q > best.q)) best = { format, q };
  }
  return best?.format ?? 'prometheus';
}
