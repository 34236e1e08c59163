import { MetricsRegistry } from '../../telemetry/metrics/MetricsRegistry.js';
import { countRejectedSubmissions, registerMetricsRoute } from '../../telemetry/metrics/metricsRoute.js';
import { attachMetrics, detachMetrics, metricsOf } from '../../telemetry/metrics/metricsOf.js';
import type { Wiring } from '../extensions.js';

/**
 * Other layers get the registry with `metricsOf(ctx.sup)` and report through it:
 * `setHealth(slot, check, level)`, `setMemoryGrowth(slot, bytesPerSecond)`,
 * `setCircuitState(slot, 0 | 1 | 2)`, `setSystemHealth(level)`,
 * `controller.action(action, result)`, `controller.webhookRequest(code)`,
 * `controller.decisionSeconds(s)`; or register metrics of their own on
 * `metricsOf(ctx.sup).registry`. See src/telemetry/metrics/MetricsRegistry.ts.
 */
export { metricsOf };

/**
 * GET /metrics (Prometheus text, or OpenMetrics on request) over a registry of
 * every metric in docs/metrics.md, observing `ctx.sup`; attached to the supervisor
 * for {@link metricsOf}. Runs first among the layers.
 */
export const wireMetrics: Wiring = async ({ app, sup, dir, log }) => {
  const metrics = new MetricsRegistry({
    sup,
    diskPaths: [dir.root, dir.logDir],
    onError: (err) => log.debug({ err: err.message }, 'metrics: the task queue could not be read during a scrape'),
    // Told once per process, problem and metric; the counters carry every occurrence.
    onCustomMetricsProblem: (p) => log.warn({ agent: p.agent, replica: p.slot, reason: p.reason, metric: p.metric }, `metrics from ${p.slot}: ${p.detail}`),
  });
  attachMetrics(sup, metrics);
  registerMetricsRoute(app, metrics);
  countRejectedSubmissions(app, metrics);
  return () => {
    metrics.close();
    detachMetrics(sup);
  };
};
