import { Histogram, collectDefaultMetrics } from 'prom-client';
import { type AnyRegistry, stateGauge } from './define.js';
import type { ExpositionFormat } from './exposition.js';
import type { SupervisorView } from './source.js';

/** Render time buckets, seconds. */
export const RENDER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Default metrics that promtool's linter rejects: gauges named `_total`
 * ("non-counter metrics should not have _total suffix"). Their per-type
 * counterparts (`nodejs_active_handles{type}`, …) carry the same figures.
 */
export const DROPPED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/**
 * The supervisor's own metrics: prom-client's process_* and nodejs_* defaults,
 * the build, how long /metrics renders take and how long a resource sampling
 * round took. Returns the function that records a render.
 */
/** Resolution of the `nodejs_eventloop_lag_*` sampler, ms. */
export const EVENT_LOOP_MONITORING_MS = 100;

export function registerSelfMetrics(register: AnyRegistry, opts: { version: string; defaultMetrics: boolean; sup?: SupervisorView | undefined }): (format: ExpositionFormat, seconds: number) => void {
  if (opts.defaultMetrics) {
    // The event-loop delay monitor samples every 100 ms, not prom-client's 10 ms: at 10 ms it
    // woke an idle supervisor 100 times a second, about 0.4 % of a core (docs/benchmarks.md).
    collectDefaultMetrics({ register, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS });
    for (const name of DROPPED_DEFAULT_METRICS) register.removeSingleMetric(name);
  }
  stateGauge(register, 'agentic_build_info', 'Version of the supervisor and of Node.js; always 1.', ['version', 'node'], (emit) => emit({ version: opts.version, node: process.version }, 1));
  const sup = opts.sup;
  if (sup) {
    stateGauge(register, 'agentic_resource_sample_duration_seconds', 'Duration of the last CPU and memory sampling round over every agent process tree.', [], (emit) =>
      emit({}, sup.sampler.lastRoundDurationMs / 1000));
  }
  const render = new Histogram({ name: 'agentic_metrics_render_seconds', help: 'Time to render the /metrics response, by exposition format.', labelNames: ['format'], buckets: RENDER_BUCKETS, registers: [register] });
  render.zero({ format: 'prometheus' });
  render.zero({ format: 'openmetrics' });
  return (format, seconds) => render.observe({ format }, seconds);
}
