import type { MetricsRegistry } from './MetricsRegistry.js';

const bySupervisor = new WeakMap<object, MetricsRegistry>();

/** Makes `metrics` the registry {@link metricsOf} returns for `sup`. Called by the metrics wiring. */
export function attachMetrics(sup: object, metrics: MetricsRegistry): void {
  bySupervisor.set(sup, metrics);
}

/** Forgets the registry of `sup` (when the metrics layer shuts down). */
export function detachMetrics(sup: object): void {
  bySupervisor.delete(sup);
}

/**
 * The metrics registry wired onto a supervisor, for the layers that report what
 * only they know (health verdicts, memory growth, controller decisions):
 *
 * ```ts
 * const metrics = metricsOf(ctx.sup);
 * metrics?.setHealth('qaa-0', 'agent_response', 'unhealthy');
 * ```
 *
 * Undefined when metrics are not wired (e.g. a unit test with a bare Supervisor).
 * The metrics layer is wired first (src/cli/extensions.ts), so it is there when the
 * health, logs and controller layers are wired.
 */
export function metricsOf(sup: object): MetricsRegistry | undefined {
  return bySupervisor.get(sup);
}
